from typed.engine import Dynamic, Turbo


class Car(Turbo):
    def drive(self):
        self.start()
        self.boost()
        self.stop(True)
        self.brake()  # E1101: no class on the way, stub's or not, has it
        self._refuel()  # private: a stub leaves such names out
        return self.name, self.nmae  # E1101


class Hover(Dynamic):
    def fly(self):
        return self.anything  # the stub's class may have any attribute


def trip():
    car = Car()
    car.drive()
    car.fly()  # E1101
    return car
