"""Screen-sized views of big images: the visible region, block-averaged to at most ``max_px`` a side."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Raster", "rasterize"]


@dataclass(frozen=True)
class Raster:
    """A block-averaged crop: ``data`` covers pixels [x0, x1) × [y0, y1) (may pass the edge, as NaN)."""

    data: np.ndarray
    x0: int
    x1: int
    y0: int
    y1: int
    factor: int


def rasterize(image: np.ndarray, x0: float = 0, x1: float | None = None, y0: float = 0,
              y1: float | None = None, max_px: int = 1024) -> Raster:
    """Crop ``image`` to the visible pixel range and average blocks so no side exceeds ``max_px``.

    Sending screen-sized data keeps the browser update cheap whatever the cube size (a 4k² channel
    becomes ≤ 1024² floats); NaN-only blocks stay NaN.
    """
    ny, nx = image.shape
    x1 = nx if x1 is None else x1
    y1 = ny if y1 is None else y1
    ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    ix1, iy1 = min(nx, int(np.ceil(x1))), min(ny, int(np.ceil(y1)))
    if ix1 <= ix0 or iy1 <= iy0:
        ix0, ix1, iy0, iy1 = 0, nx, 0, ny
    factor = max(1, int(np.ceil(max(ix1 - ix0, iy1 - iy0) / max_px)))
    crop = image[iy0:iy1, ix0:ix1]
    if factor > 1:
        ry, rx = -crop.shape[0] % factor, -crop.shape[1] % factor
        if ry or rx:
            crop = np.pad(crop.astype(np.float32), ((0, ry), (0, rx)), constant_values=np.nan)
        blocks = crop.reshape(crop.shape[0] // factor, factor, crop.shape[1] // factor, factor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            crop = np.nanmean(blocks, axis=(1, 3)) if (ry or rx or np.isnan(crop).any()) \
                else blocks.mean(axis=(1, 3))
        ix1, iy1 = ix0 + crop.shape[1] * factor, iy0 + crop.shape[0] * factor
    return Raster(np.ascontiguousarray(crop, dtype=np.float32), ix0, ix1, iy0, iy1, factor)
