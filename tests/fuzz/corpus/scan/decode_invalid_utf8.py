# E999 column and wording are strata's: it points at the bad byte (col 12),
# CPython/pyflakes at the end of the string token (col 14). The line agrees.
import os
name = "café"
print(name)
