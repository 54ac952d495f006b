"""F841: local variables assigned and never read."""


def except_as():
    try:
        pass
    except ValueError as e:
        pass
    try:
        pass
    except (TypeError, KeyError) as used:
        print(used)


def except_as_module_level_is_fine():
    pass


try:
    pass
except OSError as module_err:
    pass


def augmented_only():
    total = 0
    total += 1


def attribute_and_subscript(obj):
    obj.x = 1
    obj[0] = 2


def star_unpack():
    first, *rest = [1, 2, 3]
    return first


def walrus_unused():
    (w := 5)


def unused_then_global_read():
    unused = 1
    return globals()


def conditional_assign(flag):
    if flag:
        maybe = 1


def annotated_assign():
    x: int = 1
    y: int


def reassigned_then_used():
    a = 1
    a = 2
    return a


def used_in_nested():
    shared = 1

    def inner():
        return shared

    return inner


def used_in_fstring():
    name = "x"
    return f"{name}"


def nested_function_unused():
    def helper():
        pass

    class Local:
        pass

    import os
