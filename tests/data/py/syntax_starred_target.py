# was a known bug: a bare starred assignment target gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import sys

*rest = sys.argv
