"""An importer of those classes: the interface carries the __init__ they run."""
from app.ctors import Named, Own


def more():
    return Named("x"), Named("x", "y"), Own(), Own("z")  # E1121 twice
