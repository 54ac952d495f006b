# was a known bug: an over-indented line (CPython: IndentationError) gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import os

for x in os.sep, os.pathsep:
    print(x)
else:
    print(1)
        print(2)
