"""Whether separate files per band share one pixel grid (shape and WCS), and which card differs when not."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..errors import ShapeError

__all__ = ["same_grid"]

_GRID_CARDS = ("CTYPE1", "CTYPE2", "NAXIS1", "NAXIS2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CD1_1", "CD1_2", "CD2_1",
               "CD2_2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2")


def same_grid(items: list[tuple[Path, fits.Header, tuple[int, int]]]) -> None:
    """ShapeError unless every (path, header, shape) shares the first one's pixel grid: the same shape, and the
    centre and corners within 0.01 pixel of the same sky positions; the message names the first card that differs."""
    path0, header0, shape0 = items[0]
    ref = _quiet_wcs(header0)
    for path, header, shape in items[1:]:
        if path == path0:
            continue
        if shape != shape0:
            raise ShapeError(f"{path0.name} is {shape0[1]}×{shape0[0]} pixels and {path.name} {shape[1]}×{shape[0]} "
                             "(NAXIS1/NAXIS2 differ): resample onto one grid first (e.g. with reproject)")
        other = _quiet_wcs(header)
        if ref is None and other is None:
            continue
        if ref is not None and other is not None and _same_pixels(ref, other, shape0):
            continue
        card = next((k for k in _GRID_CARDS if _card_differs(header0, header, k)), "CTYPE1")
        raise ShapeError(f"{path0.name} and {path.name} are not on one pixel grid: {card} is "
                         f"{header0.get(card, 'absent')} in {path0.name} and {header.get(card, 'absent')} "
                         f"in {path.name}; resample onto one grid first (e.g. with reproject)")


def _quiet_wcs(header: fits.Header) -> WCS | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(header).celestial
        return wcs if wcs.naxis == 2 and wcs.has_celestial else None
    except Exception:
        return None


def _same_pixels(a: WCS, b: WCS, shape: tuple[int, int]) -> bool:
    """True when the centre and corners of ``a`` fall within 0.01 pixel of the same pixels of ``b``."""
    ny, nx = shape
    x = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    y = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    try:
        bx, by = b.world_to_pixel_values(*a.pixel_to_world_values(x, y))
    except Exception:
        return False
    return bool(np.all(np.hypot(np.asarray(bx) - x, np.asarray(by) - y) < 0.01))


def _card_differs(a: fits.Header, b: fits.Header, key: str) -> bool:
    va, vb = a.get(key), b.get(key)
    if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
        return not np.isclose(va, vb, rtol=1e-9, atol=0)
    return str(va).strip() != str(vb).strip()
