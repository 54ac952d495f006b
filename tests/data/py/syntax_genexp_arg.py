# was a known bug: an unparenthesized generator argument that is not alone gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
print(x for x in range(3), 1)
