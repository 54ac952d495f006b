"""PEP 484 type comments: names in them are uses; undefined names are F821
and unparsable comments F723. `# type: ignore` is not a type comment."""
from typing import Dict, List, Optional, Set, Tuple
from collections import OrderedDict


def legacy(a, b):
    # type: (int, Dict[str, int]) -> Optional[str]
    return None


def legacy_undefined(a):
    # type: (Missing) -> AlsoMissing
    return a


def legacy_star(*args, **kwargs):
    # type: (*int, **str) -> None
    pass


def legacy_bad(a):
    # type: (int -> str
    pass


values = []  # type: List[int]
mapping = {}  # type: OrderedDict
undefined_var = None  # type: NotDefinedAnywhere
bad_comment = None  # type: this is not
ignored = None  # type: ignore
ignored2 = None  # type: ignore[attr-defined]

for item in values:  # type: int
    pass

with open("f") as fh:  # type: Set
    pass


class Holder:
    field = None  # type: Tuple[int, int]
