# A computed setattr on a method's self opens that class alone: instances
# of the module's other classes, even handed on, are still checked.


class Options:
    def __init__(self, **kw):
        for key, value in kw.items():
            setattr(self, key, value)

    def show(self):
        return self.anything_set


class Registry:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return eval("item")  # an expression: no attribute set on self

    def size(self):
        return self.sized_elsewhere, self.count_zq()


def build():
    reg = Registry()
    reg.add(1)
    reg.ad_zq(2)
    reg.add(1, 2)
    opts = Options(a=1)
    opts.whatever()
    return reg


def clear(obj, names):
    for name in names:
        setattr(obj, name, None)  # any attribute, but no method: None


def use_cleared():
    reg = Registry()
    clear(reg, ["items"])
    reg.add_zq(1)
    return reg.items_zq
