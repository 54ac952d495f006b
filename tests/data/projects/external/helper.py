import os

VALUE = os.sep
