def run(path, *, verbose=False):
    return path, verbose
