"""A module of the same import cycle as lib.shapes."""
from lib import shapes

seen = []


def remember(cls):
    seen.append(cls)


class Circle(shapes.Shape):
    def radius_of(self):
        return self.radius


class Ring(Circle):
    def __init__(self):
        super().__init__("ring")
        self.radius = 1
