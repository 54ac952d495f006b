# A stub: its classes' members are its bodies' names.
from typing import Generic, TypeVar, final

_T = TypeVar("_T")

class Engine(Generic[_T]):
    name: str
    def start(self) -> None: ...
    def stop(self, force: bool = ...) -> None: ...

class Turbo(Engine[int]):
    def boost(self) -> int: ...

@final
class Sealed(Engine[str]): ...

class Dynamic:
    def __getattr__(self, name: str) -> int: ...
