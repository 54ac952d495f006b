"""Lambda scopes: parameters are local, defaults are evaluated outside."""
key = lambda item: item[0]
pair = lambda a, b=key: (a, b)
bad = lambda: undefined_in_lambda
star = lambda *args, **kw: (args, kw)
nested = lambda x: lambda y: x + y
default_bad = lambda z=not_defined: z
leak = lambda q: q
print(q)
kwonly = lambda *, k: k
posonly = lambda p, /: p


def in_function():
    offset = 1
    shift = lambda v: v + offset
    unused_lambda = lambda: 0
    return shift
