import pkg.a

B = 2


def fb():
    return pkg.a.A
