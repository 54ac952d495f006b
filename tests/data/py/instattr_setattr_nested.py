# A setattr(self, computed) in a class defined inside a method is the
# inner class's: it does not count as the outer self's too, so the
# module's other computed setattr still makes escaped instances unknown.


class Registry:
    def add(self, item):
        return item


class Outer:
    def make(self):
        class Inner:
            def set(self, name):
                setattr(self, name, print)

        return Inner()


def patch(target, name):
    setattr(target, name, print)  # on anything: a method may come from here


def use_patched():
    reg = Registry()
    patch(reg, "add_zq")
    return reg.add_zq(1), reg.add(1, 2)


def kept():
    reg = Registry()
    return reg.ad_zq(1)
