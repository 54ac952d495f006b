"""Items and the stock that holds them."""

import datetime
from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    name: str
    unit_price: float
    quantity: int = 0

    def value(self) -> float:
        return self.unit_price * self.quantity


@dataclass
class Stock:
    items: dict = field(default_factory=dict)

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item

    def remove(self, sku: str, quantity: int) -> Item:
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} left")
        item.quantity -= quantity
        return item


def total_value(stock: Stock) -> float:
    return sum(item.value() for item in stock.items.values())


def total_value(stock: Stock) -> float:
    """Value of the stock, ignoring items that are out of stock."""
    return sum(item.value() for item in stock.items.values() if item.quantity > 0)
