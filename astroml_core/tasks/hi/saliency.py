"""What the HI U-Net looks at for one source: integrated gradients (Sundararajan+17) on a cutout.

The target is the network's summed source probability over the source's own voxels; the baseline is
an empty (zero) cube in noise units. The attribution says which voxels of the noise-normalised cube
raised (positive) or lowered (negative) that sum, so a model that has learned HI should attribute to
the source's emission, not to the noise around it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["source_attribution", "cutout_attribution", "explain"]


def _box(mask: np.ndarray, pad: int) -> tuple[slice, ...]:
    """The source's bounding box grown by ``pad`` voxels and to a multiple of 8 (the U-Net's stride)."""
    out = []
    for axis, n in enumerate(mask.shape):
        idx = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        lo, hi = max(0, idx[0] - pad), min(n, idx[-1] + 1 + pad)
        size = min(n - n % 8 if n >= 8 else n, -(-(hi - lo) // 8) * 8)
        lo = max(0, min(lo, n - size))
        out.append(slice(lo, lo + size))
    return tuple(out)


def source_attribution(model, norm: np.ndarray, mask: np.ndarray, *, pad: int = 12,
                       steps: int = 16) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(attribution cutout (channel, y, x), its origin in the cube) for the voxels ``mask`` of a
    noise-normalised cube ``norm``."""
    import torch

    if not mask.any():
        raise ValueError("the source mask is empty")
    box = _box(mask, pad)
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(norm[box], dtype=np.float32))[None, None].to(device)
    m = torch.from_numpy(np.ascontiguousarray(mask[box]))[None, None].to(device)
    total = torch.zeros_like(x)
    for alpha in (np.arange(steps) + 0.5) / steps:          # midpoint rule from the empty cube
        point = (float(alpha) * x).requires_grad_(True)
        p = torch.sigmoid(model(point))[m].sum()
        (grad,) = torch.autograd.grad(p, point)
        total += grad
    attribution = (x * total / steps)[0, 0].detach().cpu().numpy()
    return attribution, tuple(s.start for s in box)


def cutout_attribution(model, block: np.ndarray, centre: tuple[int, int, int], *, voxel_threshold: float = 0.5,
                       steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """For a source near voxel ``centre`` of a raw subcube ``block`` (channel, y, x): the U-Net's voxels
    of that source (the component above ``voxel_threshold`` nearest the centre) and their attribution,
    both on the block's grid; the block's noise is measured per channel as the model's input expects."""
    import torch
    from scipy import ndimage

    from .noise import normalise

    norm, _ = normalise(np.asarray(block, dtype=np.float32))
    pad = [(0, -n % 8) for n in norm.shape]                 # the U-Net needs multiples of 8
    padded = np.pad(norm, pad)
    with torch.inference_mode():
        prob = torch.sigmoid(model(torch.from_numpy(padded)[None, None].to(next(model.parameters()).device)))
    prob = prob[0, 0].cpu().numpy()[tuple(slice(0, n) for n in norm.shape)]
    labels, n = ndimage.label(prob > voxel_threshold)
    if n == 0:
        raise ValueError("the network finds no source voxels in this cutout")
    zyx = np.argwhere(labels > 0)
    nearest = labels[tuple(zyx[np.argmin(((zyx - np.asarray(centre)) ** 2).sum(axis=1))])]
    mask = labels == nearest
    att, origin = source_attribution(model, padded, np.pad(mask, pad), pad=4, steps=steps)
    full = np.zeros(padded.shape, np.float32)
    full[tuple(slice(o, o + s) for o, s in zip(origin, att.shape))] = att
    return mask, full[tuple(slice(0, n) for n in norm.shape)]


def explain(block: np.ndarray, centre: tuple[int, int, int], *, steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cutout_attribution` of the shipped hi_unet: what the app and CLI call (no registry there)."""
    from ...registry import load_model

    return cutout_attribution(load_model("hi_unet"), block, centre, steps=steps)
