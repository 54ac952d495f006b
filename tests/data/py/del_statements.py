"""del removes a binding: later uses are undefined, del of an unknown name
is undefined too."""
import os

value = 1
del value
print(value)

del never_existed

os_copy = os
del os
print(os)


def in_function():
    local = 1
    del local
    return local


def del_in_branch(flag):
    item = 1
    if flag:
        del item
    return item


def del_in_loop(rows):
    for row in rows:
        del row


def del_attr_and_subscript(obj):
    del obj.attr
    del obj["key"]


def del_twice():
    z = 1
    del z
    del z


def del_tuple():
    p, q = 1, 2
    del p, q
    return p


try:
    pass
except ValueError as err:
    pass
print(err)

with open("x") as handle:
    pass
del handle
