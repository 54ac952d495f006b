# The source the stub describes; strata reads the stub, as pyright does.
import os


class Engine:
    def __init__(self):
        self.name = os.name
        self._fuel = 1

    def start(self):
        return self._fuel

    def stop(self, force=False):
        return force


class Turbo(Engine):
    def boost(self):
        return 2


class Sealed(Engine):
    pass


class Dynamic:
    def __getattr__(self, name):
        return 0
