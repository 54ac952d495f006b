"""Python 2 print statement: E999, and no other diagnostic once the file
does not parse."""
import os


def main():
    print "hello"
