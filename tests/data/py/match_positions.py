# was a known bug: pyflakes reports an unused `**rest` capture at the mapping
# pattern and an unused `pattern as name` at the as-pattern (their AST node's
# start); strata reports both at the name itself. Same line, other column.
"""Unused captures in match patterns: position of the diagnostic."""


def describe(command):
    match command:
        case {"key": value, **rest}:
            return value
        case (1 | 2) as unused_alias:
            return None
