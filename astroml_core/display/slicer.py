"""One image plane → what the browser draws: the visible crop at screen size, stretched to [0, 1]."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .raster import Raster, rasterize
from .stretch import DisplayImage, limits, render

__all__ = ["PlaneView", "view_plane"]


@dataclass(frozen=True)
class PlaneView:
    """A rasterised crop and its stretched values; limits come from the whole plane, not the crop."""

    raster: Raster
    display: DisplayImage


def view_plane(plane: np.ndarray, *, interval: str = "99.5%", stretch: str = "linear",
               region: tuple[float, float, float, float] | None = None, max_px: int = 1024,
               vmin: float | None = None, vmax: float | None = None) -> PlaneView:
    """Crop ``plane`` to ``region`` (x0, x1, y0, y1 in pixels), block-average to ≤ ``max_px``, stretch.

    Limits are computed on the full plane (a strided sample) so panning does not change the colours.
    """
    if vmin is None or vmax is None:
        vmin, vmax = limits(plane, interval)
    x0, x1, y0, y1 = region if region is not None else (0, None, 0, None)
    raster = rasterize(plane, x0, x1, y0, y1, max_px=max_px)
    return PlaneView(raster, render(raster.data, interval, stretch, vmin, vmax))
