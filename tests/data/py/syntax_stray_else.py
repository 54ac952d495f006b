# was a known bug: an else: with no if is read as an annotation: strata reports F821 undefined name '"pass"' instead of E999.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import os

print(os.sep)
else:
    pass
