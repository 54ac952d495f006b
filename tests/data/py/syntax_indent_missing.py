# was a known bug: a block with no indented body (CPython: IndentationError) gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import os

if os.sep:
pass
