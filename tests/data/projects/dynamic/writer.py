for _name in ("made", "built"):
    globals()[_name] = 1
