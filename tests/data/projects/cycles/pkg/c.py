from pkg import d

C = 3
