"""F701/F702/F704/F706: break, continue, yield and return where CPython's
compiler rejects them; pyflakes reports them with these codes."""
import asyncio

return None
yield 1
x = yield
await asyncio.sleep(0)
break
continue


class Body:
    return 1
    yield 2


for i in range(3):
    break

while True:
    continue


for j in range(3):
    def inner():
        break

    class InLoop:
        continue

    lam = lambda: (yield)
else:
    break

while False:
    try:
        continue
    finally:
        break


def gen():
    yield 1
    return 2


comp = [(yield) for _ in range(2)]
