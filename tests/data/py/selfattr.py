# self.x read in a method of a class of this module that no class of its
# hierarchy defines: pylint's E1101 "Instance of 'C' has no 'x' member",
# only where every fact is known.
import os
from collections import OrderedDict


class Base:
    kind = "base"

    def __init__(self):
        self.a = 1
        (self.t1, [self.t2]) = (1, [2])
        for self.loop in range(3):
            pass

    def helper(self):
        return self.a + self.t1 + self.t2 + self.loop


class C(Base):
    limit: int
    counter = 0

    def __init__(self):
        super().__init__()
        self.b = 2
        self.aug += 1

    def run(self):
        print(self.a, self.b, self.limit, self.kind, self.helper(), self.aug, self.run)
        print(self.missing)
        self.nope()
        print(self.c)  # pylint: disable=no-member
        print(self.d)  # noqa: E1101
        print(self.e)  # type: ignore
        print(self.__class__, self.__dict_x, self.__private)
        return [self.in_comprehension for _ in range(2)]


class Open:
    def __getattr__(self, name):
        return 1

    def f(self):
        return self.anything


class SubOfOpen(Open):
    def g(self):
        return self.anything_too


class Guarded:
    def f(self):
        if hasattr(self, "x"):
            return self.x
        return self.y

    def g(self):
        try:
            return self.z
        except AttributeError:
            return None

    def h(self):
        try:
            return self.w
        except (KeyError, ValueError):
            return self.w2


class FooMixin:
    def f(self):
        return self.from_the_host


class WithSub:
    def f(self):
        return self.only_in_sub, self.in_no_class


class TheSub(WithSub):
    def __init__(self):
        self.only_in_sub = 1


class BaseOfForeign:
    def f(self):
        return self.maybe


class Foreign(BaseOfForeign, OrderedDict):
    pass


class External(OrderedDict):
    def f(self):
        return self.whatever


class Dyn:
    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    def f(self):
        return self.whatever


class Slots:
    __slots__ = ("p", "q")

    def f(self):
        return self.p, self.r


class DynSlots:
    __slots__ = tuple(os.environ)

    def f(self):
        return self.anything


def some_decorator(f):
    return f


class Methods:
    @property
    def v(self):
        return self.w_outside, self.prop_missing

    @v.setter
    def v(self, value):
        self.stored_by_setter = value

    @staticmethod
    def s(self):
        return self.nothing

    @classmethod
    def c(cls):
        return cls.nothing

    @some_decorator
    def d(self):
        return self.nothing

    def shadowed(self):
        def inner(self):
            return self.nothing

        return inner

    def rebound(self):
        self = Methods()
        return self.nothing

    def lambda_self(self):
        return lambda self: self.nothing


@some_decorator
class Decorated:
    def f(self):
        return self.nothing


class Twice:
    def f(self):
        return self.nothing


class Twice:  # noqa: F811
    pass


class Meta(metaclass=type):
    def f(self):
        return self.nothing


obj = Methods()
obj.w_outside = 3


class Counter:
    hits = 0

    def __init__(self):
        self.total = 0

    def bump(self):
        self.hits += 1
        self.total += 1
        self.misses += 1
        return self.misses


def elsewhere(c):
    c.misses_too += 1


class Counter2:
    def bump(self):
        self.misses_too += 1


# ---- self.m(...) against the def it calls ----
class CallBase:
    def helper(self, a, b=1, *, c=2):
        return a + b + c

    def abstract(self):
        raise NotImplementedError


class Calls(CallBase):
    def __init__(self):
        self.x = 0

    def run(self, items):
        self.helper(1)
        self.helper(1, 2)
        self.helper(1, 2, 3)
        self.helper()
        self.helper(1, d=4)
        self.helper(1, c=3)
        self.helper(*items)
        self.helper(**items)
        self.abstract(1)  # not reported: the def only raises NotImplementedError
        self.two(1, 2, 3)
        self.two(a=1, b=2)
        self.pos(1, 2)
        self.pos(a=1)
        self.star(1, 2, 3, 4)
        self.kw(1, z=2)
        self.only(1, k=2)
        self.only(1)
        return self.x

    def two(self, a, b):
        return a + b

    def pos(self, a, /, b=0):
        return a + b

    def star(self, *args):
        return args

    def kw(self, a, **kw):
        return a, kw

    def only(self, a, *, k):
        return a, k


class Overridden:
    def go(self, a):
        return a

    def run(self):
        return self.go(1, 2)  # not reported: a subclass redefines go


class Sub(Overridden):
    def go(self, a, b):
        return a + b


class Queueish(object):
    def _get(self):
        return 1

    def get(self):
        return self._get(None)  # not reported: Conditional._get takes the argument

    def peek(self):
        return self.nothing_here


class LifoQueueish(Queueish):
    def _get(self):
        return 2


class ReadsDict:
    def dump(self):
        return sorted(self.__dict__.items()), self.nothing_either


class WritesDict:
    def load(self, d):
        self.__dict__.update(d)

    def use(self):
        return self.loaded_by_update


class RunsCode:
    def run(self, code, namespace):
        exec(code, namespace)
        return self.not_from_exec


class RunsHere:
    def run(self, code):
        exec(code)
        return self.maybe_from_exec


class BareSlots:
    __slots__ = 'a', 'b'

    def f(self):
        return self.c


if True:
    class Conditional(Queueish):
        def _get(self, extra):
            return extra


class WideTarget:
    """A target list longer than any fixed bound still stores self.early."""

    def fill(self, values):
        self.early, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32, a33, a34, a35, a36, a37, a38, a39, a40, a41, a42, a43, a44, a45, a46, a47, a48, a49, a50, a51, a52, a53, a54, a55, a56, a57, a58, a59, a60, a61, a62, a63, a64, a65, a66, a67, a68, a69 = values

    def use(self):
        return self.early


import __main__


class ReadsMain:
    """A module's __dict__ handed on is not self's: the class stays closed."""

    def run(self, code):
        exec(code, __main__.__dict__)
        return self.not_in_main

    def lookup(self, name):
        handler = getattr(self, "do_" + name)  # a computed read guards nothing
        return handler(), self.lookup_missing

    def tested(self):
        if hasattr(self, "maybe"):
            return self.maybe
        return getattr(self, "other", None), self.other, self.tested_missing

    def any_name(self, name):
        if hasattr(self, name):  # a computed test: anything may be there
            return self.anything
        return None


class HandsOnDicts:
    """Another object's __dict__ handed on may be an instance's: its
    attributes are unknown, its methods are not."""

    def fill(self, other, code):
        exec(code, other.__dict__)
        return self.maybe_from_other, self.not_a_method_zq()


class Host:
    def hosted(self):
        return 1


class UsesHost:
    """A mixin in all but name: the class deriving from it brings hosted."""

    def run(self):
        return self.hosted(), self.nowhere_zq()


class Together(Host, UsesHost):
    pass


class HasNested:
    def run(self):
        return self.hook(), self.lacking_zq()

    def attrs(self):
        return self.set_by_nested


def make():
    class Nested(HasNested):
        def hook(self):
            self.set_by_nested = 1
            return 2

    return Nested()


def implementer(*interfaces):
    return lambda cls: cls


def replaced(cls):
    return object


@implementer(object)
class Declared:
    """zope.interface's implementer adds dunders only: still checked."""

    def run(self):
        return self.declared_missing


@replaced
class Replaced:
    """Any other decorator may give back something else: not checked."""

    def run(self):
        return self.anything_here
