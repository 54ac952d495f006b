# C(...) of a class of this module, checked against the __init__ it runs
# (its own or a base's): pylint's E1120/E1121/E1123 "... in constructor
# call", only where the name C surely is the class and its __init__ is
# sure. Every report here is pylint's too.
import sys


class Base:
    def __init__(self, a, b=1, *, key=None):
        self.a = a


class Child(Base):
    """__init__ inherited."""


class GrandChild(Child):
    pass


class Own(Base):
    def __init__(self, x):
        super().__init__(x)


class Takes:
    def __init__(self, *args, **kwargs):
        self.args = args


class WithNew:
    def __new__(cls, *args):
        return object.__new__(cls)

    def __init__(self):
        pass


class Plain:
    pass


class Two(Base, Takes):
    pass


class Renamed:
    def __init__(self, a):
        self.a = a


class Shadowed:
    def __init__(self):
        pass


def shadowing(Shadowed):
    return Shadowed(1, 2)  # a parameter: not the class


def calls(items):
    Child(1, 2, 3)
    Child()
    Child(1, c=2)
    Child(1, key=2)
    GrandChild(1, 2, 3)
    Own(1, 2)
    Own()
    Own(x=1)
    Takes(1, 2, k=3)
    WithNew(1)  # __new__ decides: not checked
    Plain(1)  # object's __init__: not checked
    Two(1, 2, 3)  # two bases: C3's order, not followed
    Base(*items)  # unpacked: unknown
    Base(**items)
    Base(
        1,  # a comment between the arguments is no argument
        2,
    )
    Base(1, 2,  # nor here
         3)
    Renamed(1)
    return sys.argv


Renamed = dict
