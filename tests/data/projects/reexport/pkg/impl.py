def build(name, size):
    return name, size


class Widget:
    pass
