value = 1


def helper():
    return value
