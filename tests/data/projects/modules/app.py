import pkg.mod
from pkg import mod, nosuch
from pkg.mod import value, absent
import single

print(pkg.mod.value, pkg.mod.gone)
print(mod.helper(), single.CONST, single.nope, value)
print(pkg.VERSION, pkg.mod.helper.__name__)
