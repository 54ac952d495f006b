"""A `# flake8: noqa` line turns off every diagnostic in the file."""
import os
import sys

print(undefined)
# flake8: noqa
