# A type comment inside a bracketed expression is still read (pyflakes
# tokenizes the file), and '1 byte' is no expression: F723.
import tarfile

HEADER = (b"name"
          # type: 1 byte
          + tarfile.NUL)
