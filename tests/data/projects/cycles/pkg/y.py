from pkg.z import Z

Y = 6
