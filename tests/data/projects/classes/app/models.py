import abc
import json
from abc import ABC
import lib.shapes
from lib import shapes as sh
from lib.shapes import Square, Dynamic, Patched
from lib.reexport import Shape as Reexported


class Tile(Square):
    def describe(self):
        return self.name, self.side, self.sides, self.area(), self.colour


class Blob(lib.shapes.Shape):
    def size(self):
        return self.area() + self.volume()


class Pane(sh.Square):
    def frame(self):
        return self.border


class Ghost(Dynamic):
    def run(self):
        return self.anything


class Painted(Patched):
    def show(self):
        return self.color, self.weight, self.hue


class Again(Reexported):
    def run(self):
        return self.missing_here


class Decoder(json.JSONDecoder):
    def run(self):
        return self.not_in_a_stub_class


class Mixed(Square, Unknown):  # noqa: F821
    def run(self):
        return self.anything


class Careful(Square):
    def run(self):
        try:
            return self.maybe
        except AttributeError:
            return self.fallback


class Grown(Square):
    def grow(self):
        self.extra = 1

    def use(self):
        return self.extra, self.extras


class Called(Square):
    def run(self):
        self.area()
        self.area(1)
        return self.area(size=2)


class Drawn(lib.shapes.Abstract):
    def run(self, canvas):
        self.draw(canvas, 2)
        self.scale(2, keep=True)
        self.scale()
        return self.scale(1, 2)


class Overridden(Square):
    def run(self):
        return self.area(1)


class Lower(Overridden):
    def area(self, extra):
        return extra


class LocalBase(Square):
    def helper(self, a):
        return a


class UsesLocal(LocalBase):
    def run(self):
        return self.helper(1, 2)


class TwoBases(lib.shapes.Abstract, LocalBase):
    def run(self):
        return self.helper(1, 2)


class FromAbc(ABC):
    def run(self):
        return self.not_in_abc


class FromAbcModule(abc.ABC):
    def run(self):
        return self.not_in_abc_either


def make_tiles():
    tile = Tile(4)
    tile.area(1)
    tile.describe()
    return tile.corners


def make_called():
    called = Called(2)
    return called.scale
