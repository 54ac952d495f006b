# A builtin read in a function that later binds the same name (F823,
# "defined as a builtin"); a chain of more than 32 targets binds them all.


def f():
    x = len
    len = 3
    return x


def chained():
    a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = \
        a11 = a12 = a13 = a14 = a15 = a16 = a17 = a18 = a19 = a20 = \
        a21 = a22 = a23 = a24 = a25 = a26 = a27 = a28 = a29 = a30 = \
        a31 = a32 = a33 = a34 = a35 = 0
    return a1
