"""F401: imports that are never used, and the ways an import counts as used."""
import os
import sys
import json as js
import os.path
import xml.dom.minidom
from collections import OrderedDict, defaultdict
from typing import (
    Any,
    Dict,
    List,
)
from . import sibling
from .. import parent as par
import logging.handlers as lh
import email.mime

print(sys.argv)
print(xml.dom.minidom.parseString)
data: Dict[str, Any] = {}


def uses_late():
    # An import used only inside a function body still counts.
    return defaultdict(list)


class Holder:
    attr = OrderedDict()


def _shadow():
    # Rebinding an unused import's name in a function redefines it (F811).
    js = 1
    return js
