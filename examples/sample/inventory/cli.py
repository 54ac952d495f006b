"""Command line: python -m inventory.cli STOCK.json [--low N]."""

import argparse
import sys

from .report import format_report, low_stock
from .storage import load_backup, load_stock


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print a stock report.")
    parser.add_argument("stock", help="the stock file (JSON)")
    parser.add_argument("--low", type=int, default=None, help="only items below N")
    args = parser.parse_args(argv)

    try:
        stock = load_stock(args.stock)
    except OSError:
        stock = load_backup(args.stock)
    if args.low is not None:
        for item in low_stock(stock, args.low):
            print(f"{item.sku}: {item.quantity} left")
        return 0
    print(format_report(stock, "EUR", True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
