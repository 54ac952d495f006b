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
