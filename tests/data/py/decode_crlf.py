"""CRLF line endings: lines and columns as with LF."""
import os
import sys


def f():
    unused = 1
    text = """a
b"""
    return text, undefined_crlf


print(sys.argv, f"no placeholder")
