"""Function scopes: locals, closures, defaults and annotations evaluated
outside, and unused locals (F841)."""
import functools


def outer():
    captured = 1
    unused_local = 2

    def inner():
        return captured

    return inner


def later_binding():
    def inner():
        return late

    late = 3
    return inner


def default_scope(a, b=outer, c: functools.partial = None) -> functools.partial:
    return a, b, c


def param_shadowing(functools):
    return functools


def unused_after_use():
    x = 1
    print(x)
    x = 2


def tuple_unpacking():
    a, b = 1, 2
    (c, d) = 3, 4
    [e, f] = 5, 6
    g = h = 7
    return h


def augmented():
    counter = 0
    counter += 1


def annotated_only():
    value: int
    other: int = 5


def with_as():
    with open("f") as fh:
        pass
    with open("g") as (a, b):
        pass


def locals_used():
    hidden = 1
    return locals()


def dunder_local():
    __tracebackhide__ = True
    __traceback_info__ = 1
    __traceback_supplement__ = 2
    _ = 3
    __ = 4


def for_loop():
    for i in range(3):
        pass
    for j, k in []:
        pass


def recursive(n):
    return recursive(n - 1) if n else 0


async def coro():
    result = await something()
    async with ctx() as conn:
        pass
    async for item in aiter_thing():
        pass


def chained_assign():
    x = y = 0
    return y


def reassign_in_branch(flag):
    if flag:
        v = 1
    else:
        v = 2
    return v
