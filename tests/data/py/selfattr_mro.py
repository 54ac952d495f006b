"""self.x and self.m(...) where a class's name is bound again, where a
method is overridden along the bases, and inside try statements."""
import abc
import os


class Accelerated:
    """A pure-Python fallback that a C accelerator replaces below: its own
    methods still see self as an instance of this class statement's class."""

    def __init__(self):
        self.n = 0

    def size(self):
        return self._sz()

    def _size(self):
        return 0

    def reset(self):
        self._size(1)


class Twice:
    def f(self):
        return self.nothing


class Twice:  # noqa: F811
    def g(self):
        return self.also_nothing


class FromTwice(Twice):
    # which Twice is the base is not sure: nothing for either of them
    def h(self):
        self.set_here = 1


class Base:
    def run(self, a):
        return a

    def walk(self):
        return self.run(1, 2)


class Derived(Base):
    def run(self, a, b):
        return a + b

    def go(self):
        # the most derived def runs: Derived.run takes two arguments
        self.run(1, 2)
        return self.run(1, 2, 3)


class Left:
    def step(self, a):
        return a


class Right:
    def step(self, a, b):
        return a + b


class Both(Left, Right):
    def go(self):
        # two unrelated bases bind step: C3 decides, not checked
        return self.step(1, 2, 3)


class Guards:
    def body_only(self):
        try:
            value = self.maybe
        except AttributeError:
            value = self.fallback_zq()
        return value, self.after_zq

    def bare(self):
        try:
            os.getcwd()
        except:  # noqa: E722
            self.report_zq()

    def nested(self):
        try:
            try:
                return self.inner
            finally:
                pass
        except Exception:
            return None


class Abstract(metaclass=abc.ABCMeta):
    """abc's metaclass gives instances nothing; an abstract method says
    subclasses complete the class: they may set the attributes it reads
    (not reported), not its methods (reported)."""

    @abc.abstractmethod
    def run(self):
        return self.set_by_a_subclass

    def go(self):
        return self.rnu()


# the star import below may bind Accelerated again: this call is not checked
Accelerated(1)

from os.path import *  # noqa: E402,F401,F403
