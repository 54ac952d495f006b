def public(a, b=1):
    return a + b


def only_in_py():
    return 0


SETTING = "x"
