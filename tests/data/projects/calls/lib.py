def fixed(a, b):
    return a, b


def defaults(a, b=1, c=2):
    return a, b, c


def star(a, *args):
    return a, args


def kw(a, **kwargs):
    return a, kwargs


def kwonly(a, *, need, flag=False):
    return a, need, flag


def posonly(a, b, /, c):
    return a, b, c


def deco(f):
    return f


@deco
def decorated(a):
    return a


def twice(a):
    return a


def twice(a, b):  # noqa: F811
    return a, b
