# strata is right, pyflakes wrong: ast.parse accepts module-level nonlocal,
# CPython's compiler rejects it (python3 -c 'nonlocal x'), so E999, and
# like any file that does not compile, no other diagnostic.
"""nonlocal at module level is rejected by CPython's compiler."""
import os

nonlocal os
