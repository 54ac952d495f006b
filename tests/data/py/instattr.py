# Instances made by a constructor call of a class of this module:
# `x = C(...)`, x bound nowhere else, reads of x's attributes and calls of
# its methods are checked as self's are (pylint's E1101, E1121, E1123,
# E1120), where every fact is known.
import sys


class Base:
    kind = "base"

    def __init__(self):
        self.a = 1

    def helper(self, n):
        return n + self.a


class C(Base):
    def __init__(self, b):
        super().__init__()
        self.b = b

    def run(self, x, y=2):
        return x + y + self.b

    @property
    def prop(self):
        return self.b


def use():
    c = C(1)
    print(c.a, c.b, c.kind, c.prop, c.helper(1), c.run(1), c.run(1, y=3))
    print(c.missing)
    c.runn(1)
    c.run(1, 2, 3)
    c.run(1, z=3)
    c.run()
    c.helper()
    print(c.__class__, c.__module__)
    print(c.nope)  # noqa: E1101
    return [c.in_comprehension for _ in range(2)], lambda: c.in_lambda


def nested():
    c = C(2)

    def inner():
        return c.from_inner

    return inner


top = C(3)
print(top.at_module_level)


def reads_top():
    return top.in_a_function


# Several bindings, each a constructor call: x is an instance of one of
# their classes (its type set); an attribute none of them has is reported.
def two_bindings(flag):
    d = C(1)
    if flag:
        d = Base()
    return d.b_not_on_base


def one_has_it(flag):
    u = Base()
    if flag:
        u = C(1)
    return u.b


def same_class_twice(flag):
    w = C(1)
    if flag:
        w = C(2)
    w.run(1, 2, 3)
    return w.helper(1, 2)


def one_binding_unknown(flag):
    z = C(1)
    if flag:
        z = make()
    return z.unknown_then


def make():
    return C(1)


def parameter(e=None):
    e = C(1)
    return e.not_reported


def guarded():
    f = C(1)
    if hasattr(f, "maybe"):
        return f.maybe
    return f.other


def caught():
    g = C(1)
    try:
        return g.absent
    except AttributeError:
        return g.in_the_handler


def set_elsewhere():
    h = C(1)
    h.later = 1
    return h.later, h.stored_on_other


other = object()
other.stored_on_other = 1


class Opened:
    def __getattr__(self, name):
        return name


def open_class():
    i = Opened()
    return i.anything


class WithNew:
    def __new__(cls):
        return object.__new__(cls)


def with_new():
    j = WithNew()
    return j.anything


class Mixed(C, sys.modules.__class__):
    pass


def unknown_base():
    k = Mixed(1)
    return k.anything


def dunder_dict():
    m = C(1)
    m.__dict__.update(x=1)
    return m.x


def isinstance_test():
    n = C(1)
    if isinstance(n, Base):
        return n.whatever
    return None


def in_class_body():
    class Local:
        o = C(1)
        p = o.not_checked

    return Local


def shadowing_builtins():
    list = C(1)
    return list.append


# A setattr with a computed name: an instance other code sees (it is
# passed to a call, or its class passes self to one) may have any
# attribute; one no other code sees may not.
def configure(obj, name, value):
    setattr(obj, name, value)


def escaped():
    q = C(1)
    configure(q, "dyn", 1)
    return q.dyn


class Registers:
    def __init__(self):
        configure(self, "late", 1)
        print(repr(self))


def via_self():
    r = Registers()
    return r.late


def not_escaped():
    s = C(1)
    return s.not_set_by_anyone


class Keyed:
    def __init__(self):
        self.ready = True


class Failure(Exception):
    pass


TABLE = {}
TABLE[Keyed] = "a key reads the class: Keyed is still the class"


def keyed():
    try:
        k = Keyed()
    except Failure as failure:  # `except E` reads E too
        raise RuntimeError() from failure
    return k.not_ready
