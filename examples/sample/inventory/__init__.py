"""A toy inventory: items, a JSON store and a stock report."""

from .models import Item, Stock
from .storage import load_stock, save_stock

__all__ = ["Item", "Stock", "load_stock", "save_stock"]
__version__ = "0.3.1"
