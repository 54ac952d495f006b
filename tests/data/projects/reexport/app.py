import pkg
from pkg import build, Widget, nothing_here

build("a")
build("a", 1)
pkg.build("a", 1, 2)
pkg.build(name="a", size=1, color=2)
print(pkg.Widget, Widget, pkg.missing_attr, nothing_here)
