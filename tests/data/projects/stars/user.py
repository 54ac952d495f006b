from mid import *

print(alpha, beta, delta)
print(gamma)
print(_private)
print(epsilon)
