# Known gap shared with pyflakes 2.5 (kept for parity): a class variable used
# in a comprehension's element or condition (squares, pairs, gen below) is a
# NameError at run time, since only the first iterable sees the class body;
# neither pyflakes nor strata reports it.
"""Class bodies are not visible from methods, nested functions or most of a
comprehension; they are visible to the rest of the class body."""


class Config:
    default = 10
    limit = default * 2

    def get(self):
        return default

    def get_limit(self, n=limit):
        return n

    def nested(self):
        def inner():
            return limit

        return inner

    lam = lambda self: default
    squares = [default * i for i in range(3)]
    firsts = [i for i in range(default)]
    pairs = {k: default for k in range(3)}
    gen = (default for _ in range(2))

    class Inner:
        y = default

    @staticmethod
    def uses_class_name():
        return Config.default

    def uses_self(self):
        return self.default


class Outer:
    token = "x"

    class Meta:
        label = token


def factory():
    value = 1

    class Local:
        attr = value

        def method(self):
            return value

    return Local
