"""__all__: names listed are used exports; names missing are F822. strata
honours __all__.append/.extend/+= like pyflakes 3.x and ruff; pyflakes 2.5
does not see .append and .extend, so it misses the F822 for their names."""
import os
import sys
import json
import re
from collections import OrderedDict

__all__ = ["os", "missing_one", "Exported"]
__all__ += ["sys", "missing_plus"]
__all__.append("json")
__all__.append("missing_append")
__all__.extend(["re", "missing_extend"])
__all__ += ("helper",)


class Exported:
    pass


def helper():
    pass
