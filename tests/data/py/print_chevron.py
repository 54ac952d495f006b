# `print >> f, x` is valid Python 3 (a tuple whose first item shifts the
# print function), so it gets pyflakes' F633, not a syntax error.
import sys

print >> sys.stderr, "message"
print >> sys.stderr
x = print >> 2


def shadowed(print):
    return print >> 1
