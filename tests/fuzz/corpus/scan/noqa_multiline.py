# was a known bug: flake8 and ruff apply a noqa comment that ends a
# multi-line string, or a backslash-continued statement, to every line of it;
# strata applies it only to the comment's own line.
"""noqa on the last line of a multi-line token or statement."""
message = f"""no
placeholders"""  # noqa: F541
import os, \
    sys  # noqa
