from base import *

delta = 5
