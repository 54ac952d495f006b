import os
"""UTF-8 with a byte order mark: the BOM is not part of line 1 columns."""
import sys
print(missing)
