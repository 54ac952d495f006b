"""F541: f-strings without any placeholder."""
name = "world"
a = f"hello"
b = f"hello {name}"
c = f"{{escaped braces only}}"
d = f"{name!r:>10}"
e = f"width {name:{10}}"
f = F"upper prefix"
g = rf"raw {name}"
h = rf"raw no placeholder"
i = (f"implicit " f"concat {name}")
j = (f"both " f"empty")
k = "plain" f"{name}"
m = f"""triple
quoted"""
n = f'''triple {name}
'''
o = b"bytes are not f-strings"
p = f"nested {f'inner'}"
q = f"{name=}"
print(f"log line")
