# -*- coding: latin-1 -*-
"""Latin-1 source with its PEP 263 coding line: é is one byte here, two
in the UTF-8 text that columns count."""
import os

greeting = "café"; print(undefined_after_accent)
print(f"été")
