# -*- coding: utf8 -*-
# CPython: "utf8" is a valid codec name, but a BOM needs exactly utf-8.
x = 1
