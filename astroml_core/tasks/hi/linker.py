"""The linker: voxels of a detection mask → labelled sources, merging near neighbours, dropping specks."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["grow", "link", "relabel"]


def grow(mask: np.ndarray, r_chan: int, r_px: int) -> np.ndarray:
    """Box dilation by (±r_chan, ±r_px, ±r_px), done axis by axis (much faster than a 3-D structure)."""
    out = mask.view(np.uint8)
    for axis, r in ((0, r_chan), (1, r_px), (2, r_px)):
        if r > 0:
            out = ndimage.maximum_filter1d(out, 2 * r + 1, axis=axis)
    return out.astype(bool)


def link(mask: np.ndarray, merge_chan: int, merge_px: int, min_chan: int, min_px: int) -> tuple[np.ndarray, int]:
    """Label mask voxels, merging those within (merge_chan, merge_px); keep sources spanning at least
    ``min_chan`` channels and ``min_px`` pixels. Returns (labels 1..n on mask voxels, n)."""
    grown, _ = ndimage.label(grow(mask, merge_chan, merge_px))
    labels = np.where(mask, grown, 0)
    keep = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        m = labels[sl] == k
        if m.any(axis=(1, 2)).sum() >= min_chan and m.any(axis=0).sum() >= min_px:
            keep.append(k)
    return relabel(labels, keep)


def relabel(labels: np.ndarray, keep: list[int]) -> tuple[np.ndarray, int]:
    """Keep only the listed labels, renumbered 1..len(keep) in that order."""
    lut = np.zeros(int(labels.max()) + 1 if labels.size else 1, np.int32)
    lut[np.asarray(keep, dtype=int)] = np.arange(1, len(keep) + 1)
    return lut[labels], len(keep)
