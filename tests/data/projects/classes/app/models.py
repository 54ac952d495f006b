import json
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
