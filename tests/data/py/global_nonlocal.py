"""global and nonlocal: bindings move to the module or the enclosing
function, so they are neither unused locals nor undefined."""
counter = 0


def bump():
    global counter
    counter += 1


def create_global():
    global created_here
    created_here = 1


def read_created():
    return created_here


def declared_never_bound():
    global never_bound
    return never_bound


def make_counter():
    count = 0

    def inc():
        nonlocal count
        count += 1
        return count

    return inc


def nonlocal_unused_outer():
    state = None

    def setter(v):
        nonlocal state
        state = v

    return setter


def global_import():
    global shutil
    import shutil


def uses_global_import():
    return shutil.rmtree


class Registry:
    global registry_global
    registry_global = []


def shadow_global():
    counter = 5
