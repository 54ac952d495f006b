# was a known bug: del of a call gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import gc

del gc.get_objects()
