"""Bokeh data sources changed only when their columns change."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource

__all__ = ["replace_data"]


def replace_data(source: ColumnDataSource, data: dict) -> bool:
    """Give ``source`` the columns ``data`` unless it holds equal ones already; True when it changed.

    Bokeh sends a reassigned ``data`` to the browser even when it is equal, and the browser redraws it: an
    overlay that stays empty would cost a message and a redraw on every channel step."""
    old = source.data
    if set(old) == set(data) and all(_same(old[k], data[k]) for k in data):
        return False
    source.data = data
    return True


def _same(a, b) -> bool:
    """Equal columns (lists or arrays, nested for multi-lines and images; NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype == object or b.dtype == object or a.shape != b.shape:
            return a.dtype == object and b.dtype == object and a.shape == b.shape and all(map(_same, a, b))
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return False
    return a == b or (a != a and b != b)
