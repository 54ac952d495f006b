__all__ = ["alpha"]
__all__ += ["beta"]

alpha = 1
beta = 2
gamma = 3
_private = 4
