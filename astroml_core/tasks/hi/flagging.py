"""Continuum-subtraction residuals found and flagged before the search, as SoFiA-2's pixel auto-flagging does.

A bright continuum source that subtraction left behind is a beam-sized spot whose spectrum ripples, of
either sign, across the whole band. Left in, its lobes are strong candidates of both signs: the negative
ones raise the cube's own noise bar (:mod:`.reliability`) until nothing is accepted, and the positive ones
are false detections. HI emission cannot span the band: no galaxy is wider than ``W_MAX_KMS``.

So, on the cube smoothed by the beam, each sky pixel's spectral scatter (MAD over channels) is compared
with the field's; a pixel is a residual when its scatter stays high after the most deviant window of
``W_MAX_KMS`` (where a galaxy's line would sit) is left out. Flagged pixels, grown by ``GROW_BEAMS``, are
blanked for both signs of the search. A cube searched in tiles shorter than that in channels is flagged
once, on its whole band, before the tiles (:func:`residual_map`).
"""
from __future__ import annotations

from functools import partial

import numpy as np
from scipy import ndimage

from ...constants import FWHM_PER_SIGMA

__all__ = ["residual_pixels", "residual_seeds", "grow_spots", "residual_map", "can_flag", "spot_centres",
           "residual_note", "W_MAX_KMS", "K_SIGMA", "MIN_CHANNELS"]

W_MAX_KMS = 1000.0      # wider than any galaxy's HI line (the widest spirals reach W20 ≈ 800 km/s)
K_SIGMA = 6.0           # a pixel's scatter this many robust σ above the field's is not noise
GROW_BEAMS = 1.5        # flagged spots grow by this many beam FWHM (the search smooths up to 2 beams)
MIN_CHANNELS = 64       # fewer channels left beside the widest line: too few to tell a residual
_STRIP = 32             # rows smoothed at a time, even (one strip of the cube in memory, not a copy)
_BLOCK = 192            # sky pixels a side read at a time by the whole-cube pre-pass (every channel: ~100 MB)
_MAD = 1.4826


def residual_pixels(norm: np.ndarray, beam_sigma_px: float, channel_kms: float) -> np.ndarray:
    """(ny, nx) bool: sky pixels of continuum-subtraction residuals in a noise-normalised cube (NaN → 0)."""
    return grow_spots(residual_seeds(norm, beam_sigma_px, channel_kms), beam_sigma_px)


def can_flag(n_channels: int, channel_kms: float) -> bool:
    """Whether a band of ``n_channels`` leaves :data:`MIN_CHANNELS` beside the widest line: else a residual
    cannot be told from a wide line, and nothing is flagged."""
    return n_channels - _window(channel_kms) >= MIN_CHANNELS


def _window(channel_kms: float) -> int:
    """Channels of the widest possible HI line, :data:`W_MAX_KMS`."""
    return int(np.ceil(W_MAX_KMS / max(abs(channel_kms), 1e-6)))


def residual_seeds(norm: np.ndarray, beam_sigma_px: float, channel_kms: float) -> np.ndarray:
    """(ny, nx) bool: the residual pixels found on the sampled grid, before :func:`grow_spots`."""
    n, ny, nx = norm.shape
    if not can_flag(n, channel_kms) or min(ny, nx) < 4:
        return np.zeros((ny, nx), bool)
    window = _window(channel_kms)
    fwhm = FWHM_PER_SIGMA * beam_sigma_px
    step = 2 if fwhm >= 2 else 1         # the smoothed cube varies over a beam: every 2nd pixel tells it
    scatter = _scatter_map(norm, beam_sigma_px, step)
    level = _expected_scatter(scatter, int(np.ceil(fwhm / step)))
    if not np.nanmin(level) > 0:
        return np.zeros((ny, nx), bool)
    ratio = scatter / level
    cut = 1.0 + K_SIGMA * _MAD * float(np.nanmedian(np.abs(ratio - np.nanmedian(ratio))))
    flagged = np.zeros((ny, nx), bool)
    for y, x in np.argwhere(ratio > cut):
        flagged[y * step, x * step] = _band_wide(norm, y * step, x * step, beam_sigma_px, window) / level[y, x] > cut
    return flagged


def grow_spots(seeds: np.ndarray, beam_sigma_px: float) -> np.ndarray:
    """Seeds grown by :data:`GROW_BEAMS` beams: the search smooths up to 2 beams, so a residual's lobes reach
    beyond the pixels that tell it."""
    if not seeds.any():
        return seeds
    r = max(1, int(np.ceil(GROW_BEAMS * FWHM_PER_SIGMA * beam_sigma_px)))
    disc = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= r
    return ndimage.binary_dilation(seeds, disc)


def residual_map(cube, beam_sigma_px: float, channel_kms: float, block: int = _BLOCK, *, map_blocks=None) -> np.ndarray:
    """(ny, nx) bool: the residual pixels of a whole cube (an open :class:`~astroml_core.data.Cube`), for a
    search in tiles too short in channels to tell them. Read in blocks of sky with every channel, each padded
    so its core's smoothing and edge rings never reach the block's border, and normalised as a one-piece
    search normalises its cube; the seeds of all blocks are grown together. ``cube`` may be the cube's path;
    ``map_blocks(function, boxes)`` runs :func:`block_seeds` over the blocks (default: here, one after another;
    a search in worker processes passes its pool's map, with the cube's path)."""
    from ...data import as_cube

    n, ny, nx = as_cube(cube).shape
    seeds = np.zeros((ny, nx), bool)
    if not can_flag(n, channel_kms):
        return seeds
    boxes = sky_blocks((ny, nx), beam_sigma_px, block)
    run = map_blocks or (lambda fn, items: map(fn, items))
    for (core, _), part in zip(boxes, run(partial(block_seeds, cube, beam_sigma_px, channel_kms), boxes)):
        seeds[core] = part
    return grow_spots(seeds, beam_sigma_px)


def sky_blocks(shape_yx: tuple[int, int], beam_sigma_px: float, block: int = _BLOCK) -> list[tuple]:
    """(core, read) slices (y, x) of the sky blocks :func:`residual_map` flags: cores tile the sky, each read padded
    so its core's smoothing and edge rings never reach the block's border."""
    ny, nx = shape_yx
    pad = int(np.ceil(4 * beam_sigma_px + 2 * FWHM_PER_SIGMA * beam_sigma_px)) + 2
    out = []
    for y0 in range(0, ny, block):
        for x0 in range(0, nx, block):
            y1, x1 = min(ny, y0 + block), min(nx, x0 + block)
            out.append(((slice(y0, y1), slice(x0, x1)),
                        (slice(max(0, y0 - pad), min(ny, y1 + pad)), slice(max(0, x0 - pad), min(nx, x1 + pad)))))
    return out


def block_seeds(cube, beam_sigma_px: float, channel_kms: float, box: tuple) -> np.ndarray:
    """The residual seeds of one sky block's core (``box`` from :func:`sky_blocks`); ``cube`` open, or its path."""
    from ...data import as_cube
    from .noise import normalise

    cube = as_cube(cube)
    (cy, cx), (ry, rx) = box
    norm, _ = normalise(cube.subcube((0, cube.shape[0]), (ry.start, ry.stop), (rx.start, rx.stop)))
    part = residual_seeds(norm, beam_sigma_px, channel_kms)
    return part[cy.start - ry.start:cy.stop - ry.start, cx.start - rx.start:cx.stop - rx.start]


def _expected_scatter(scatter: np.ndarray, edge: int) -> np.ndarray:
    """The noise's scatter at each pixel: the field's median, and within ``edge`` pixels of a side the median
    of the pixels as far from that side (smoothing averages fewer pixels there); NaN in the corners."""
    ny, nx = scatter.shape
    dy = np.minimum(np.arange(ny), np.arange(ny)[::-1]).clip(max=edge)[:, None]
    dx = np.minimum(np.arange(nx), np.arange(nx)[::-1]).clip(max=edge)[None, :]
    level = np.full(scatter.shape, np.nan, np.float32)
    for d in range(edge + 1):
        for ring in ((dy == d) & (dx == edge), (dy == edge) & (dx == d)):
            if ring.any():
                level[ring] = np.median(scatter[ring])
    return level


def _scatter_map(norm: np.ndarray, beam_sigma_px: float, step: int) -> np.ndarray:
    """Spectral MAD of the beam-smoothed cube at every ``step``-th sky pixel, a strip of rows at a time."""
    n, ny, nx = norm.shape
    pad = int(np.ceil(4 * beam_sigma_px))
    rows = []
    for y0 in range(0, ny, _STRIP):
        lo, hi = max(0, y0 - pad), min(ny, y0 + _STRIP + pad)
        sm = ndimage.gaussian_filter(norm[:, lo:hi], (0, beam_sigma_px, beam_sigma_px), mode="nearest")
        sm = np.ascontiguousarray(sm[:, y0 - lo:y0 - lo + min(_STRIP, ny - y0):step, ::step].transpose(1, 2, 0))
        sm -= np.median(sm, axis=-1, keepdims=True)
        rows.append(np.median(np.abs(sm), axis=-1))
    return np.concatenate(rows)


def _band_wide(norm: np.ndarray, y: int, x: int, beam_sigma_px: float, window: int) -> float:
    """The pixel's beam-smoothed spectral scatter with its most deviant ``window`` channels left out."""
    pad = int(np.ceil(4 * beam_sigma_px))
    y0, x0 = max(0, y - pad), max(0, x - pad)
    box = norm[:, y0:y + pad + 1, x0:x + pad + 1]
    spec = ndimage.gaussian_filter(box, (0, beam_sigma_px, beam_sigma_px), mode="nearest")[:, y - y0, x - x0]
    dev = np.abs(spec - np.median(spec))
    run = np.convolve(dev, np.ones(window), mode="valid")
    start = int(np.argmax(run))
    rest = np.r_[spec[:start], spec[start + window:]]
    return float(np.median(np.abs(rest - np.median(rest))))


def spot_centres(flagged: np.ndarray, origin_yx: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(k, 2) sky-pixel centres (x, y) of the flagged spots, in the whole cube's pixels."""
    labels, n = ndimage.label(flagged)
    if n == 0:
        return np.zeros((0, 2))
    yx = np.array(ndimage.center_of_mass(flagged, labels, range(1, n + 1))).reshape(-1, 2) + np.asarray(origin_yx)
    return yx[:, ::-1]


def residual_note(spots: np.ndarray) -> str:
    """What the catalogue's notes say about flagged continuum residuals (pixels 0-based, as the catalogue's x, y)."""
    one = len(spots) == 1
    where = "; ".join(f"x {x:.0f}, y {y:.0f}" for x, y in spots[:5]) + ("; …" if len(spots) > 5 else "")
    return (f"{len(spots)} continuum-subtraction residual{'' if one else 's'} (a spectrum bright across the whole "
            f"band, wider than any HI line) blanked before the search, {GROW_BEAMS:g} beams around {'it' if one else 'each'} "
            f"(pixel {where}): sources behind {'it' if one else 'them'} are not searched")
