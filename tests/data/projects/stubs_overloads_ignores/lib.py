from typing import final, overload


@overload
def f(x: int) -> int: ...
@overload
def f(x: str) -> str: ...
def f(x):
    return x


@final
def g(a):
    return a


def h():
    pass
