"""Markdown tables for model cards: one header/separator/rows layout, ranges and missing values alike."""
from __future__ import annotations

import numpy as np

__all__ = ["table", "span", "cell"]


def span(lo: float, hi: float) -> str:
    """A bin as 'lo–hi' ('∞' for an open top)."""
    return f"{lo:g}–" + ("∞" if not np.isfinite(hi) else f"{hi:g}")


def cell(value, fmt: str = ".3f") -> str:
    """A number formatted with ``fmt``, or '–' when it is missing (None or NaN)."""
    return "–" if value is None or not np.isfinite(value) else format(value, fmt)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table from column headers and rows of already formatted cells."""
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(["---"] * len(headers)) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
