import pkg.missing
import single.sub
import pkg.mod.deeper
