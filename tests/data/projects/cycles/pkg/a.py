from pkg import b

A = 1


def fa():
    return b.B
