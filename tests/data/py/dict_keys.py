# Repeated dictionary keys: reported when the values differ (F601 for
# constants, F602 for names), not when every value is the same.
a = 1
b = 2
same = {"x": 1, "x": 1}
differ = {"x": 1, "x": 2}
three = {"k": 1, "k": 1, "k": 2}
numbers = {1: "one", 1.0: "uno"}
names = {a: 1, a: 2}
tuples = {(1, "t"): a, (1, "t"): b}
calls = {"f": len([]), "f": len([])}
splat = {**{}, "y": 1, "y": 1}
quotes = {'q': 1, "q": 2}
big_distinct = {18446744073709551616: 1, 18446744073709551617: 2}
past_double = {9007199254740993: 'a', 9007199254740992: 'b'}
bases = {0o17: 1, 15: 2, 0b11: 3, 0x3: 4}
big_same = {18446744073709551616: 1, 0x10000000000000000: 2}
