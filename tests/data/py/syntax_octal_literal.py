# was a known bug: a Python 2 octal literal (0777) gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
import os

os.chmod("f", 0777)
