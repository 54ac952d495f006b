"""Sets attributes it is told to: a module of its own."""


def add_field(cls, name):
    setattr(cls, name, None)
