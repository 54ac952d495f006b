from pkg.y import Y

X = 5
