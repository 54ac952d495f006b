"""String annotations are parsed and checked as expressions; they may name
things defined later. F722 when they are not expressions (here only where
pyflakes reports at the string: see known_forward_annotation_pos.py)."""
from typing import TYPE_CHECKING, Optional, List
import typing

if TYPE_CHECKING:
    from decimal import Decimal
    from fractions import Fraction


def parse(value: "Decimal") -> "Optional[Node]":
    return None


def bad(value: "Undefined") -> "List[AlsoUndefined]":
    return []


def syntax(value: "this is not python") -> List["1 +"]:
    return value


class Node:
    parent: "Node"
    children: "List[Node]"
    other: "typing.Dict[str, Missing]"

    def clone(self) -> "Node":
        return self


count: "int" = 0
later: "Later"
cast_target = typing.cast("Later", None)
bad_cast = typing.cast("Later[", None)
Bound = typing.TypeVar("Bound", bound="Node |")
nested_str: Optional["Nested"] = None
literal: typing.Literal["not_a_name"] = "not_a_name"
annotated: typing.Annotated[int, "not a name either"] = 1


class Later:
    pass


def eager(x: Eager) -> None:
    pass


def local_annotations():
    inner: "Undefined2" = 1
    return inner
