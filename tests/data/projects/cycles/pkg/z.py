import pkg.x

Z = pkg.x.X
