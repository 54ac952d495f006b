"""Constructor calls of classes whose __init__ comes from another module."""
from lib.shapes import Shape, Square
from typed.engine import Turbo


class Named(Shape):
    """Shape's __init__(self, name)."""


class Sided(Square):
    def area(self):
        return self.side * self.side


class Own(Shape):
    def __init__(self):
        Shape.__init__(self, "own")


class Built(Turbo):
    """The stub's classes have no __init__ to check against: not checked."""


def make():
    return (
        Named("a"),
        Named("a", "b"),  # E1121
        Named(),  # E1120
        Named(nam="a"),  # E1123
        Sided(2),
        Sided(2, 3),  # E1121
        Built(1, 2, 3),
    )
