# pyflakes 2.5 rules, matched on purpose: an annotated `__all__: T = (...)`
# is not read as an export list (so 'os' is unused and 'gone' unchecked),
# and `__all__ + [...]` drops the names before it.
"""__all__ forms: tuple, concatenation, annotated assignment, and
non-literal entries that cannot be checked."""
import os
import sys as system
from typing import List

__all__: List[str] = ("os", "gone")
__all__ = __all__ + ["system"] + ["nowhere"]
name = "dynamic"
__all__ += [name]
