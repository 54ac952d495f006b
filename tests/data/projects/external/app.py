import os
import json.decoder
import requests
from collections import OrderedDict, NoSuchThing
from numpy import arrayz
import notinstalled.sub
import helper

print(os.nothing, json.decoder.nope, requests.get, OrderedDict, NoSuchThing, arrayz)
print(notinstalled.sub.x, helper.VALUE, os.path.join("a"))
