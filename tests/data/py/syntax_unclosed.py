"""An unclosed bracket."""
import os

values = [1, 2,
other = 3
