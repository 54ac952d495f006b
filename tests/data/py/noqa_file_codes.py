"""`# flake8: noqa: F401` is not a file-level switch (flake8 ignores it,
with a warning): diagnostics stay."""
import os

print(undefined)
# flake8: noqa: F401
