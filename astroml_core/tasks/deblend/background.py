"""Sky subtraction for images that still carry their sky (raw CCD frames, archive cutouts): the detection
image and the networks' inputs are in units of the sky noise around zero, so a sky level of hundreds of σ
would make the whole frame one source. A band whose median lies more than ``SKY_SIGMA`` robust σ from zero
gets a smooth background (SExtractor's mesh estimate through sep) subtracted; images already near zero
(simulated fields, drizzled HST products) are returned unchanged.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..hi.noise import robust_sigma

__all__ = ["sky_subtracted", "SKY_SIGMA"]

SKY_SIGMA = 1.0      # |median| / σ above which a band is taken to still carry its sky


def _mesh(shape: tuple[int, int]) -> int:
    """Background mesh (px): a quarter of the short side, 16 to 64 (SExtractor's default is 64)."""
    return int(np.clip(min(shape) // 4, 16, 64))


def sky_subtracted(image):
    """``image`` (a MultibandImage) with a smooth background subtracted from every band still carrying its sky, and
    a note per such band appended to ``notes``; ``image`` itself when no band needs it."""
    import sep

    data, notes = image.data, []
    for b, plane in enumerate(image.data):
        sigma, median = robust_sigma(plane), float(np.nanmedian(plane))
        if not (np.isfinite(sigma) and sigma > 0 and abs(median) > SKY_SIGMA * sigma):
            continue
        if data is image.data:
            data = image.data.copy()
        mesh = _mesh(plane.shape)
        blank = ~np.isfinite(plane)
        background = sep.Background(np.ascontiguousarray(np.nan_to_num(plane, nan=median), dtype=np.float64),
                                    mask=blank, bw=mesh, bh=mesh, fw=3, fh=3)
        data[b] = (plane - background.back()).astype(np.float32)
        data[b][blank] = np.nan
        notes.append(f"{image.bands[b]}: the sky was not subtracted (median {median:.4g} = {abs(median) / sigma:.0f} σ): "
                     f"a smooth background ({mesh}-pixel mesh, SExtractor's estimate via sep) was subtracted before "
                     "deblending; fluxes are above it, and light smoother than the mesh (a large galaxy's halo) went with it.")
    return image if not notes else replace(image, data=data, notes=tuple(image.notes) + tuple(notes))
