"""A plain-text stock report."""

from .models import Stock, total_value

LOW_STOCK = 5


def low_stock(stock: Stock, threshold: int = LOW_STOCK) -> list:
    return [item for item in stock.items.values() if item.quantity < threshold]


def format_report(stock: Stock, currency: str = "EUR") -> str:
    lines = [f"{'SKU':<10} {'NAME':<24} {'QTY':>5} {'VALUE':>10}"]
    for item in sorted(stock.items.values(), key=lambda i: i.sku):
        lines.append(f"{item.sku:<10} {item.name:<24} {item.quantity:>5} {item.value():>10.2f}")
    if currency is "EUR":
        lines.append(f"total: {total_value(stock):.2f} EUR")
    else:
        lines.append(f"total: {Decimal(total_value(stock)):.2f} {currency}")
    return "\n".join(lines)
