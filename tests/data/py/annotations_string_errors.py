# was a known bug: for a string annotation written directly on a parameter,
# a return or an annotated assignment, pyflakes 2.5 reports F722 at the
# enclosing def / statement (so on the `def` line even for a parameter on a
# later line); strata reports at the string. The issue asks for pyflakes' line.
"""F722 on direct annotations."""


def f(x: "1 +",
      y: "2 +") -> "3 +":
    pass


class C:
    a: "4 +"
    b: "5 +" = 1
