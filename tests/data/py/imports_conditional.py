"""F401/F811 for imports under if/else and try/except."""
import sys

try:
    import simplejson as json
except ImportError:
    import json

try:
    from cStringIO import StringIO
except ImportError:
    from io import StringIO
else:
    pass

if sys.version_info >= (3, 8):
    from functools import cached_property
else:
    from backports.cached_property import cached_property

if sys.platform == "win32":
    import winreg
else:
    import termios

try:
    import tomllib
except ModuleNotFoundError:
    tomllib = None

try:
    import yaml
except ImportError:
    pass

try:
    import ujson
finally:
    pass

import os
if os.name == "nt":
    import os

print(json.dumps, StringIO, cached_property, tomllib)
