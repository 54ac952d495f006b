# Tabs and spaces mixed inconsistently in one block: CPython raises TabError,
# pyflakes reports it at 8:1; strata gives E999 there (fixed in 18e66b9, a
# known bug until then).
import os

if os.sep:
	x = 1
        y = 2
