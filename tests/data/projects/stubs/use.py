from lib.api import public, only_in_py
from lib import api

print(public(1), public(1, 2, 3), api.SETTING, api.only_in_py())
print(only_in_py)
