"""__future__: imports are never unused; late ones are F404, unknown
features F407."""
from __future__ import print_function, division
from __future__ import generator_stop
from __future__ import nested_scopes as ns
import os
from __future__ import with_statement
from __future__ import not_a_feature

print(os.sep)
