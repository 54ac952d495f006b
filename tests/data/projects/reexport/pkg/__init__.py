from .impl import build, Widget

__all__ = ["build", "Widget"]
