def f(a):
    return a


X = 1
