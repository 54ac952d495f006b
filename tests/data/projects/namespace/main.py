import ns.inner.mod
from ns.inner import mod, missing
from ns import inner, other
from ns.other.leaf import LEAF, NOLEAF

print(ns.inner.mod.X, ns.inner.mod.Y, mod.X, inner, other, LEAF)
print(ns.inner.nomod)
