"""Colour composites and segmentation overlays for multi-band images (UI-free, numpy + astropy).

RGB follows Lupton et al. (2004) through ``astropy.visualization.make_lupton_rgb``: one asinh stretch
of the summed intensity keeps colours true from the faintest pixel to the brightest core. Bands are
scaled by their sky σ first, so the stretch is in units of the noise whatever the data's unit.
"""
from __future__ import annotations

import numpy as np

__all__ = ["composite", "rgba_uint32", "segment_rgba", "SEGMENT_PALETTE"]

# 20 distinct colours (Tableau 20 without its greys), cycled over segment labels
SEGMENT_PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120), (152, 223, 138),
    (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (219, 219, 141), (158, 218, 229)],
    np.uint8)


def composite(images: np.ndarray, sigma: np.ndarray, *, q: float = 8.0, stretch: float = 20.0) -> np.ndarray:
    """(ny, nx, 3) uint8 RGB: reddest band → R, middle → G, bluest → B (bands ordered blue to red);
    a single band gives grey. ``stretch`` is the linear range in σ, ``q`` the asinh softening."""
    from astropy.visualization import make_lupton_rgb

    norm = np.nan_to_num(images / np.asarray(sigma, float)[:, None, None])
    n = len(norm)
    if n == 1:
        r = g = b = norm[0]
    else:
        r, g, b = norm[-1], norm[n // 2] if n > 2 else 0.5 * (norm[0] + norm[-1]), norm[0]
    return make_lupton_rgb(r, g, b, minimum=-1.0, stretch=stretch, Q=q)


def rgba_uint32(rgb: np.ndarray, alpha: np.ndarray | float = 255) -> np.ndarray:
    """Pack (ny, nx, 3) uint8 RGB (+ alpha) into the (ny, nx) uint32 array Bokeh's image_rgba draws."""
    out = np.empty(rgb.shape[:2] + (4,), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = alpha
    return out.view(np.uint32)[..., 0]


def segment_rgba(segmap: np.ndarray, *, opacity: float = 0.45, contours: bool = False,
                 highlight: int | None = None) -> np.ndarray:
    """uint32 RGBA overlay of a segmentation map: a colour per label (filled at ``opacity`` or, with
    ``contours``, only its boundary); label ``highlight`` is drawn white and opaque on top."""
    seg = np.asarray(segmap)
    colours = SEGMENT_PALETTE[(seg - 1) % len(SEGMENT_PALETTE)]
    edge = np.zeros(seg.shape, bool)
    edge[:-1] |= seg[:-1] != seg[1:]
    edge[1:] |= seg[1:] != seg[:-1]
    edge[:, :-1] |= seg[:, :-1] != seg[:, 1:]
    edge[:, 1:] |= seg[:, 1:] != seg[:, :-1]
    edge &= seg > 0
    shown = edge if contours else seg > 0
    alpha = np.where(shown, 255 if contours else int(round(255 * opacity)), 0).astype(np.uint8)
    if highlight is not None:
        mine = seg == highlight
        ring = mine & edge
        colours = np.where(ring[..., None], np.uint8(255), colours)
        alpha = np.where(ring, 255, np.where(mine & ~contours, max(int(alpha.max()), 90), alpha)).astype(np.uint8)
    return rgba_uint32(colours, alpha)
