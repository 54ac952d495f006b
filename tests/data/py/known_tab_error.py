# strata-known-bug: mixing tabs and spaces inconsistently (CPython: TabError) gets no diagnostic
# at commit 96ab4f1 (a fix is in progress in the working tree; with it, turn
# the marker into "# was a known bug:" so line numbers stay).
import os

if os.sep:
	x = 1
        y = 2
