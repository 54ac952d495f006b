"""F632: `is` / `is not` against str, bytes, int, float, tuple literals."""
x = 1
if x is 1:
    pass
if x is not "s":
    pass
if "s" is x:
    pass
if x is b"b":
    pass
if x is 1.5:
    pass
if x is ():
    pass
if x is (1, 2):
    pass
if x is None or x is True or x is ...:
    pass
if x is -1:
    pass
if x is [] or x is {}:
    pass
if 0 < x is 2:
    pass
if x == 1 is x:
    pass
y = x is not 0
