"""F811: a name rebound while its first binding is still unused."""
import os
import os
from typing import overload, Union
import typing


def helper():
    pass


def helper():
    pass


class Thing:
    def method(self):
        pass

    def method(self):
        pass

    @property
    def value(self):
        return 1

    @value.setter
    def value(self, v):
        pass


@overload
def conv(x: int) -> int: ...
@overload
def conv(x: str) -> str: ...
def conv(x: Union[int, str]):
    return x


@typing.overload
def conv2(x: int) -> int: ...
def conv2(x):
    return x


if os.sep == "/":
    def plat():
        return 1
else:
    def plat():
        return 2


def used_then_redefined():
    pass


used_then_redefined()


def used_then_redefined():
    pass


import re
def re():
    pass


class Twice:
    pass


class Twice:
    pass


try:
    from json import loads
except ImportError:
    def loads(s):
        return s
print(loads)
