"""F403/F405/F406: star imports hide which names are defined. F405 inside a
function is in known_star_order.py."""
from os.path import *
from json import *
from .relative import *

print(join(dirname("a"), "b"))
print(loads, definitely_local)

defined_here = 1
print(defined_here)


def star_in_function():
    from string import *


class StarInClass:
    from textwrap import *
