import lazy
import plain
import writer
from lazy import anything

if hasattr(plain, "extra"):
    print(plain.extra)

try:
    print(plain.absent_attr)
except AttributeError:
    pass

plain.added = 1
print(lazy.whatever, lazy.KNOWN, anything, writer.made)
print(plain.really_missing)
