"""PEP 695 syntax is Python 3.12; CPython 3.11 (pyflakes' interpreter)
rejects it."""
from typing import Sequence

type Alias = Sequence[int]
