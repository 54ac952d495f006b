# was a known bug: a non-ASCII character in a bytes literal gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
data = b"café"
