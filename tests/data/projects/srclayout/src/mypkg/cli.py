from mypkg.core import run
from . import core


def main():
    run("x", verbose=True)
    run("x", quiet=True)
    return core.walk("y")
