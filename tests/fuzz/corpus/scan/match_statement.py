"""match: capture patterns bind names, value patterns use them, class
patterns use the class. Unused `**rest` and `... as name` captures are in
known_match_pos.py."""
import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2


def describe(command):
    match command:
        case ["go", direction]:
            return direction
        case ["drop", *objects]:
            return objects
        case {"key": value, **rest}:
            return value, rest
        case Point(x=0, y=yy):
            return yy
        case Color.RED:
            return "red"
        case UnknownEnum.BLUE:
            return "blue"
        case str() | bytes() as text:
            return text
        case [first, *_] if first > limit:
            return first
        case {"a": 1} | {"b": 2}:
            return None
        case (1 | 2) as alias:
            return alias
        case _:
            return None


def capture_unused(event):
    match event:
        case {"type": kind}:
            pass
        case other:
            pass


match 42:
    case int(n):
        print(n)
    case captured:
        pass
print(captured)


def match_soft_keyword():
    match = 1
    case = 2
    return match + case
