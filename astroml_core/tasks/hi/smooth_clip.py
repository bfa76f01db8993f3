"""SoFiA-2's smooth-and-clip (S+C) masks, the finder's hot loop, shared by the baseline and the model pipeline.

Following Serra+2015 / Westmeier+2021: the noise-normalised cube is smoothed with each spatial
Gaussian (FWHM in beams) and each spectral boxcar (channels), and every voxel beyond ``threshold`` × the
smoothed cube's own robust σ joins the positive (or negative) mask. Why a module of its own: this is
where the finder spends its time, so it is written to stream. The Gaussian goes into one reused buffer,
each boxcar is a difference of a cumulative sum (built plane by plane: ``np.cumsum`` along the channel
axis is ~50× slower) taken a few channels at a time so its temporaries stay in cache, and each boxcar's
σ is read from the cumulative sum at the sample voxels only. Extra memory: the Gaussian buffer, the
cumulative sum and the two masks, ~2.5 float32 copies of the cube. The masks equal the plain
"smooth every kernel, clip every cube" computation voxel for voxel (same float32 arithmetic).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ...progress import Progress, quiet
from .measure import FWHM
from .noise import robust_sigma

__all__ = ["smooth_and_clip"]

_CHUNK = 8          # channels per boxcar block: a few MB of temporaries, kept in cache
_TRUNCATE = 4.0     # Gaussian kernel radius in σ (SoFiA-2 and scipy's default)


def smooth_and_clip(norm: np.ndarray, beam_px: float, spatial_fwhm_beams=(0.0, 1.0, 2.0),
                    spectral_channels=(0, 3, 7, 15), threshold=4.0, sample=1_000_000,
                    progress: Progress = quiet) -> tuple[np.ndarray, np.ndarray]:
    """(positive mask, negative mask): union over kernels of voxels above +``threshold`` σ and below −.

    ``norm`` is the (n_channels, ny, nx) cube in units of its noise (:func:`.noise.normalise`);
    ``beam_px`` the beam FWHM in pixels; spatial kernels are extra Gaussian FWHMs in beams (0: none),
    spectral ones boxcar widths in channels (0 or 1: none); each smoothed cube's σ comes from a strided
    sample of ``sample`` voxels. ``progress`` hears each kernel done.
    """
    norm = np.ascontiguousarray(norm, dtype=np.float32)
    pos = np.zeros(norm.shape, bool)
    neg = np.zeros(norm.shape, bool)
    spatial = np.empty_like(norm) if any(s > 0 for s in spatial_fwhm_beams) else None
    csum = np.empty((norm.shape[0] + 1,) + norm.shape[1:], np.float32) if any(w > 1 for w in spectral_channels) else None
    at = _sample_at(norm.shape, sample) if csum is not None else None
    n_kernels, done = len(spatial_fwhm_beams) * len(spectral_channels), 0
    for s in spatial_fwhm_beams:
        if s > 0:
            sig = s * beam_px / FWHM
            ndimage.gaussian_filter(norm, (0, sig, sig), mode="constant", output=spatial, truncate=_TRUNCATE)
            cube = spatial
        else:
            cube = norm
        summed = False
        for w in spectral_channels:
            if w > 1:
                if not summed:
                    _cumsum0(cube, csum)
                    summed = True
                level = threshold * _boxcar_sigma(csum, w, at)
                _clip_boxcar(csum, w, level, pos, neg)
            else:
                level = threshold * robust_sigma(cube, sample)
                _clip_cube(cube, level, pos, neg)
            done += 1
            progress(done / n_kernels, f"smoothing and clipping: kernel {done} of {n_kernels}")
    return pos, neg


def _cumsum0(cube: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Cumulative sum along the spectral axis with a leading zero plane into ``out`` (float32: noise-normalised
    values summed over ≤ a few thousand channels keep ~1e-5 absolute accuracy), one plane at a time."""
    out[0] = 0
    for i in range(cube.shape[0]):
        np.add(out[i], cube[i], out=out[i + 1])
    return out


def _edges(n: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative-sum planes (hi, lo) per channel whose difference is the centred ``width``-channel boxcar
    sum (zero beyond the band)."""
    channels = np.arange(n)
    return np.clip(channels + (width - width // 2), 0, n), np.clip(channels - width // 2, 0, n)


def _planes(csum: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """csum[idx] as a view where ``idx`` runs over consecutive planes (all but the band's edges)."""
    if idx[-1] - idx[0] == len(idx) - 1:
        return csum[idx[0]:idx[-1] + 1]
    return csum[idx]


def _sample_at(shape: tuple[int, ...], sample: int) -> tuple[np.ndarray, np.ndarray]:
    """(channel, flat index within the channel) of the strided sample that ``robust_sigma`` takes of a cube."""
    plane = int(np.prod(shape[1:]))
    size = shape[0] * plane
    return np.divmod(np.arange(0, size, max(1, size // sample)), plane)


def _boxcar_sigma(csum: np.ndarray, width: int, at: tuple[np.ndarray, np.ndarray]) -> float:
    """Robust σ of the boxcar-mean cube, read from the cumulative sum at the sample voxels ``at`` only."""
    n = csum.shape[0] - 1
    hi, lo = _edges(n, width)
    chan, within = at
    flat = csum.reshape(-1)
    plane = csum[0].size
    values = np.take(flat, hi[chan] * plane + within)
    values -= np.take(flat, lo[chan] * plane + within)
    values /= np.float32(width)
    return robust_sigma(values, values.size)


def _clip_boxcar(csum: np.ndarray, width: int, level: float, pos: np.ndarray, neg: np.ndarray) -> None:
    """OR into the masks the voxels of the ``width``-channel boxcar mean beyond ±``level``, a block of channels at a time."""
    n = csum.shape[0] - 1
    hi, lo = _edges(n, width)
    tmp = np.empty((min(_CHUNK, n),) + csum.shape[1:], np.float32)
    hit = np.empty(tmp.shape, bool)
    scale = np.float32(width)
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        t, h = tmp[:b - a], hit[:b - a]
        np.subtract(_planes(csum, hi[a:b]), _planes(csum, lo[a:b]), out=t)
        t /= scale
        np.greater(t, level, out=h)
        pos[a:b] |= h
        np.less(t, -level, out=h)
        neg[a:b] |= h


def _clip_cube(cube: np.ndarray, level: float, pos: np.ndarray, neg: np.ndarray) -> None:
    """OR into the masks the voxels of ``cube`` beyond ±``level``, a block of channels at a time."""
    hit = np.empty((min(_CHUNK, cube.shape[0]),) + cube.shape[1:], bool)
    for a in range(0, cube.shape[0], _CHUNK):
        b = min(a + _CHUNK, cube.shape[0])
        h = hit[:b - a]
        np.greater(cube[a:b], level, out=h)
        pos[a:b] |= h
        np.less(cube[a:b], -level, out=h)
        neg[a:b] |= h
