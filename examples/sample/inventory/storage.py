"""Reading and writing a stock as JSON."""

import json
import os
import tempfile

from .models import Item, Stock


def load_stock(path: str) -> Stock:
    stock = Stock()
    with open(path, encoding="utf-8") as f:
        for row in json.load(f):
            stock.add(Item(**row))
    return stock


def save_stock(stock: Stock, path: str) -> None:
    """Writes atomically: a temporary file renamed over the old one."""
    rows = [vars(item) for item in stock.items.values()]
    directory = os.path.dirname(os.path.abspath(path))
    tmp_path = os.path.join(directory, ".stock.tmp")
    fd, name = tempfile.mkstemp(dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2)
    os.replace(name, path)


def describe(path: str) -> str:
    if not os.path.exists(path):
        return f"no stock file yet"
    return f"{path}: {os.path.getsize(path)} bytes"
