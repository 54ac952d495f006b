from mypkg import core
from mypkg.core import run, stop

print(core.run("a"), run(), stop)
