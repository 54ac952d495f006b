D = 4


def fd():
    from pkg import c

    return c.C
