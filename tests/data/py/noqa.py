"""# noqa suppresses diagnostics on its line: bare for all codes, with
codes for those codes only, matched as prefixes (F4 covers F401). pyflakes
knows nothing of noqa; flake8 and ruff do. Like flake8 (which searches the
physical line), "# noqa" inside a string counts too; ruff reads comments only."""
import os  # noqa
import sys  # noqa: F401
import json  # noqa:F401,F841
import re  # noqa: F841
import abc  # noqa: F4
import ast  # noqa: E501
import csv  # NOQA: F401
import glob  # noqa : F401
import io  # noqa:F401 trailing words
import math  # noqa: F401, F811
import heapq  # this is not a noqa comment
x = undefined_one  # noqa: F821
y = undefined_two  # noqa: F401
z = f"none"  # noqa
s = "# noqa"; import enum
import random as rnd  # type: ignore  # noqa: F401


def f():
    unused = 1  # noqa: F841
    also_unused = 2  # noqa:F401,F841
    third = (  # noqa
        3
    )
    fourth = (
        4  # noqa
    )
