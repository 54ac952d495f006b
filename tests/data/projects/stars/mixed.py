from base import *
from os.path import *

print(alpha, join, unknown_name)
