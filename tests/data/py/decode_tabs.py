"""Tab indentation: a tab is one byte of column."""
import os


def f():
	unused = 1
	if True:
		return missing_tab


class C:
	def m(self):
		x	= 1
