# pyflakes 2.5 rules, matched on purpose: `__all__ = __all__ + [...]` keeps
# only the literal names on the right, so 'List' counts as unused and
# 'maybe_from_star' is not checked, though at run time both are in __all__.
"""__all__ with a star import: unknown names may come from the star, so
they are F405 rather than F822."""
from os.path import *
from typing import List

__all__ = ["join", "List", "maybe_from_star"]
__all__ = __all__ + ["also_maybe"]
