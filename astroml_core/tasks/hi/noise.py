"""Noise estimates shared by the baseline and the model: robust σ, per-channel normalisation and the
spatial noise map (primary-beam-corrected cubes get noisier toward the field's edge).

Everything works on float32 and strided samples: a 4 GB cube is read once to normalise it, and no
float64 copy of it is ever made.
"""
from __future__ import annotations

import numpy as np

__all__ = ["robust_sigma", "normalise", "spatial_noise_map", "SPATIAL_VARIATION"]

SPATIAL_VARIATION = 1.1     # normalise divides by the spatial noise map when its max/min exceeds this
_CHUNK = 8                  # channels per block while dividing: temporaries stay in cache
_MIN_BLOCK_SAMPLES = 4096   # per spatial block: its σ to ~2.5%


def robust_sigma(values: np.ndarray, sample: int = 1_000_000) -> float:
    """1.4826 × median absolute deviation of the finite values (a strided sample for big arrays)."""
    flat = values.ravel()
    flat = flat[:: max(1, flat.size // sample)]
    flat = flat[np.isfinite(flat)]          # a copy: the medians may reorder it in place
    if flat.size == 0:
        return float("nan")
    dev = np.abs(flat - np.median(flat, overwrite_input=True))
    return float(1.4826 * np.median(dev, overwrite_input=True))


def _row_sigma(rows: np.ndarray, min_count: int = 1) -> np.ndarray:
    """robust_sigma of each row's finite values (NaN where fewer than ``min_count``), vectorised over complete rows."""
    out = np.full(len(rows), np.nan, np.float32)
    full = np.isfinite(rows).all(axis=1)
    if full.any():
        r = rows[full]                      # a copy
        med = np.median(r, axis=1, overwrite_input=True, keepdims=True)
        dev = np.abs(r - med)
        out[full] = 1.4826 * np.median(dev, axis=1, overwrite_input=True)
    for i in np.flatnonzero(~full):
        if np.isfinite(rows[i]).sum() >= min_count:
            out[i] = robust_sigma(rows[i], rows.shape[1])
    return out


def _channel_samples(data: np.ndarray, sample: int) -> np.ndarray:
    """(n_channels, m) strided sample of each channel, the one ``robust_sigma(channel, sample // n)`` takes."""
    n = data.shape[0]
    plane = int(np.prod(data.shape[1:]))
    step = max(1, plane // max(1, sample // max(1, n)))
    if data.flags.c_contiguous:
        return data.reshape(n, plane)[:, ::step]
    return np.stack([np.ravel(ch)[::step] for ch in data])


def normalise(data: np.ndarray, sample: int = 1_000_000) -> tuple[np.ndarray, np.ndarray]:
    """(data / σ per channel as float32 with NaN → 0, σ per channel); noise varies across the band.

    Bad channels (σ not finite or 0) get the median σ. Where the noise also varies across the field by
    more than ``SPATIAL_VARIATION`` (max/min of :func:`spatial_noise_map` averaged over 3 × 3 blocks), the result is divided by that map
    too, so a threshold in σ means the same everywhere; the σ returned stays per channel.
    """
    sigma = _row_sigma(_channel_samples(data, sample))
    good = np.isfinite(sigma) & (sigma > 0)
    sigma[~good] = np.median(sigma[good]) if good.any() else 1.0
    out = np.empty(data.shape, np.float32)
    for a in range(0, data.shape[0], _CHUNK):
        block = out[a:a + _CHUNK]
        np.divide(data[a:a + _CHUNK], sigma[a:a + _CHUNK, None, None], out=block, casting="same_kind")
        if not np.isfinite(block).all():
            np.nan_to_num(block, copy=False, nan=0.0)
    if data.ndim == 3 and min(data.shape[1:]) > 1:
        from scipy import ndimage

        block = int(np.clip(min(data.shape[1:]) // 8, 16, 32))    # ~8 blocks across small fields
        factor = spatial_noise_map(out, block, sample)
        # decide on the map averaged over 3 × 3 blocks: a block's σ scatters by a few % from sampling alone
        smooth = ndimage.uniform_filter(factor, 3 * block, mode="nearest")
        if smooth.max() > SPATIAL_VARIATION * smooth.min():
            for a in range(0, out.shape[0], _CHUNK):
                out[a:a + _CHUNK] /= factor
    return out, sigma


def spatial_noise_map(norm: np.ndarray, block: int = 32, sample: int = 1_000_000) -> np.ndarray:
    """(ny, nx) float32 noise factor of a channel-normalised cube, median 1: each ``block``² pixel block's
    robust σ over all channels (a strided sample; exact zeros, i.e. blanked voxels, left out), bilinearly
    interpolated between block centres. Blocks with too few samples take their nearest neighbour's σ."""
    n, ny, nx = norm.shape
    by, bx = -(-ny // block), -(-nx // block)
    stride = max(1, block // 8)                       # ≤ 8 × 8 sampled pixels per block and channel
    per_channel = (-(-block // stride)) ** 2
    per_block = max(sample // (by * bx), _MIN_BLOCK_SAMPLES)
    chans = norm[:: max(1, n // max(1, per_block // per_channel))]
    sub = np.asarray(chans[:, ::stride, ::stride], np.float32)
    k, sy, sx = sub.shape
    side = -(-block // stride)
    padded = np.full((k, by * side, bx * side), np.nan, np.float32)
    padded[:, :sy, :sx] = np.where(sub == 0, np.float32(np.nan), sub)
    rows = padded.reshape(k, by, side, bx, side).transpose(1, 3, 0, 2, 4).reshape(by * bx, -1)
    grid = _row_sigma(rows, min_count=max(16, rows.shape[1] // 8)).reshape(by, bx)
    valid = np.isfinite(grid) & (grid > 0)
    if not valid.any():
        return np.ones((ny, nx), np.float32)
    if not valid.all():
        from scipy import ndimage

        _, (iy, ix) = ndimage.distance_transform_edt(~valid, return_indices=True)
        grid = grid[iy, ix]
    factor = (_bilinear(ny, block, by) @ grid @ _bilinear(nx, block, bx).T).astype(np.float32)
    return factor / np.float32(np.median(factor))


def _bilinear(n: int, block: int, n_blocks: int) -> np.ndarray:
    """(n, n_blocks) weights that interpolate block-centre values linearly to every pixel (constant beyond the outer centres)."""
    starts = np.arange(n_blocks) * block
    centres = (starts + np.minimum(starts + block, n) - 1) / 2
    eye = np.eye(n_blocks)
    return np.stack([np.interp(np.arange(n), centres, eye[j]) for j in range(n_blocks)], axis=1)
