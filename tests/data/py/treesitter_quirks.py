# Valid Python that tree-sitter's grammar reads differently from CPython;
# strata must see it as CPython does (no E999, the same bindings).


def continuation():
    # a bracketed line left of its block: tree-sitter takes it for a dedent
    total = (1 +
2)
    unused = (3 +
4)
    return total


def parenthesized_targets(o, v):
    (o.a) += v
    (x) = 1
    (y,) = 2,
    return o


def parenthesized_with(manager):
    with (manager() as z):
        pass
    with (manager() as w, manager()):
        return w


def chevron(f):
    print >> f, "still a tuple"
