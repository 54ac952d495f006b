# was a known bug: a parameter without default after one with a default gets no diagnostic.
# E999 expected at the line:col pyflakes/CPython 3.11 give; message wording
# may follow strata's own style once fixed.
def connect(host="localhost", port):
    return host, port
