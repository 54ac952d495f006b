import lib
import plat

lib.f(1)
lib.f(1, 2)
lib.g(1, 2)
lib.missing
lib.missing2  # type: ignore[attr-defined]
lib.h(1)  # pyright: ignore
plat.fork()
plat.startfile("x")
plat.new(1)
plat.new(a=1)
