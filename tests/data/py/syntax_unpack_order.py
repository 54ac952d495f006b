# was a known bug: iterable unpacking after keyword unpacking in a call gets F821s instead of E999.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
def f(*a, **k):
    return a, k


f(**{}, *[])
