from . import d
from .d import D
from .. import b
from ..b import B
from ... import a
from ...a import A, NOT_A
from ...mid.b import B as B2
from .... import beyond
from ....x import y
from .nope import z

print(d, D, b, B, a, A, B2, beyond, y, z, NOT_A)
