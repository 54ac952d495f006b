"""Comprehension scopes: the loop variable does not leak, the first iterable
is evaluated outside, walrus binds in the enclosing scope."""
items = [1, 2, 3]
squares = [n * n for n in items]
print(n)
evens = {m for m in items if m % 2 == 0}
table = {k: v for k, v in zip(items, items)}
gen = (g for g in items)
print(m, k, v, g)
nested = [x * y for x in items for y in range(x)]
print(x, y)
uses_later = [z for z in items if z > w for w in items]
if any((hit := i) > 1 for i in items):
    print(hit)
total = [last := j for j in items]
print(last)


def in_function(values):
    found = [seen := val for val in values]
    return found


def walrus_unused(values):
    if [(tmp := val) for val in values]:
        pass


def walrus_used(values):
    [(kept := val) for val in values]
    return kept


def walrus_plain(data):
    if (size := len(data)) > 3:
        return size
    while (chunk := data.read()):
        pass


class Cls:
    base = 2
    # NameError at run time (class scope), unreported like pyflakes 2.5:
    ok = [base for _ in range(3)]
    first_iter_ok = [i for i in range(base)]
