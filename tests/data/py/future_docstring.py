"""A docstring may come before __future__ imports."""
from __future__ import annotations
from __future__ import braces


def f(x: Later) -> Later:
    return x


class Later:
    pass
