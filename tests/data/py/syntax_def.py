"""A broken function header."""
import sys


def handler(request:
    return request
