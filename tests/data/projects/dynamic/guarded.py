try:
    from plain import maybe
except ImportError:
    maybe = None

try:
    import plain.sub
except ImportError:
    plain = None

print(maybe, plain)
