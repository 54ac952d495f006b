"""Statement checks: F402 loop variable shadows import, F631 assert on a
tuple, F634 if on a tuple, F901 raise NotImplemented, F707 bare except not
last, F823 local referenced before assignment, F831 duplicate argument."""
import os
import sys

for os in range(3):
    pass

[sys for sys in range(2)]


def loop_shadow():
    import json
    for json in []:
        pass


assert (1, "message")
assert ()
assert (1,)
assert 1, "fine"

if (1, 2):
    pass
elif (3,):
    pass
if ():
    pass
while (1, 2):
    break


def not_implemented():
    raise NotImplemented
    raise NotImplemented("x")
    raise NotImplementedError


try:
    pass
except:
    pass
except ValueError:
    pass

counter = 0


def before_assign():
    counter += 1


def read_before_assign():
    print(counter)
    counter = 2


def dup(a, b, a):
    pass


lam = lambda c, c: c
