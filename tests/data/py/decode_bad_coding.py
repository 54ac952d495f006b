# coding: bogus-enc
"""A coding line naming an unknown codec: CPython refuses the file."""
import os
