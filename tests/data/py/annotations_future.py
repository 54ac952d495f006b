"""With `from __future__ import annotations` every annotation is deferred:
forward references are fine, undefined names are still F821."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def total(values: Iterable[int]) -> Number:
    return sum(values)


class Tree:
    left: Tree | None
    right: Tree | None
    size: Unknown

    def walk(self) -> Iterable[Tree]:
        yield self


def default_not_deferred(x: Tree = Tree()) -> None:
    pass


def default_undefined(x=NotDeferred) -> Later:
    pass


var: Later = Later2()


class Later:
    pass
