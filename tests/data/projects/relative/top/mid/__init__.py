from . import b
from .b import B, NOT_B
