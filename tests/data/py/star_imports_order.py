# was a known bug: F405 lists the star modules in hash-table order, not
# sorted as pyflakes does (checker.c mark_star_imports_used); here it prints
# ".relative, os.path, json" inside the functions.
"""F405: the list of star imports is sorted."""
from os.path import *
from json import *
from .relative import *

print(join(dirname("a"), "b"))
print(loads, definitely_local)

defined_here = 1
print(defined_here)


def use_in_function():
    return exists("x")


def star_in_function():
    from string import *
    return ascii_letters


class StarInClass:
    from textwrap import *
