# coding: latin-1
"""A BOM says UTF-8; a coding line saying otherwise is an error."""
import os
