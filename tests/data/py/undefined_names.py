"""F821: names that are never bound, and names that always are."""
import builtins

print(__file__, __name__, __doc__, __builtins__, __spec__, __loader__)
print(__package__, __annotations__, __dict__)
print(WindowsError)
print(undefined_thing)
print(len, ValueError, NotImplemented, Ellipsis, __debug__, builtins)


def f():
    return missing_in_function + 1


def g():
    # defined later at module level: fine at call time
    return later_defined


later_defined = 1


def h(a, *args, b=default_missing, **kw):
    return a, args, b, kw, other_missing


class C(BaseMissing):
    x = 1
    y = x + 1
    print(__module__, __qualname__)


def uses_class_magic():
    return __module__


try:
    pass
except (Undefined1, ValueError) as exc:
    print(exc)

print(exc)
x: UndefinedAnnot = 1
first_use_before_def
first_use_before_def = 1
