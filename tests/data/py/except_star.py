# was a known bug: `except* E as name` binds name like `except E as name`;
# pyflakes reports it unused (F841), strata reports nothing.
"""except* (PEP 654) with an unused name."""


def exception_group():
    try:
        pass
    except* ValueError as eg:
        pass
    try:
        pass
    except* (TypeError, KeyError) as used:
        print(used)
