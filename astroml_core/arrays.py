"""Small array helpers shared by modules that must not import each other (the training simulator and the
foreign test sets written apart from it)."""
from __future__ import annotations

import numpy as np

__all__ = ["add_clipped"]


def add_clipped(cube: np.ndarray, box: np.ndarray, origin: tuple[int, ...]) -> None:
    """``cube[origin:origin + box.shape] += box`` in place, keeping only the part of ``box`` inside ``cube``
    (a source near the edge is cut, not wrapped or refused)."""
    src, dst = [], []
    for o, n, full in zip(origin, box.shape, cube.shape):
        lo, hi = max(o, 0), min(o + n, full)
        if hi <= lo:
            return
        dst.append(slice(lo, hi))
        src.append(slice(lo - o, hi - o))
    cube[tuple(dst)] += box[tuple(src)]
