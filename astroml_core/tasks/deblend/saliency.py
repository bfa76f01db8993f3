"""What the deblending network looks at for one galaxy: integrated gradients (Sundararajan+17) of the
splitter's predicted flux of that galaxy (all bands, in sky-σ units) with respect to the scaled bands of
its stamp, from an empty-sky baseline, the centre markers kept as they are. A splitter that shares the
light of overlapping galaxies properly draws on its own galaxy's pixels, not on its neighbours'.
"""
from __future__ import annotations

import numpy as np

from .detection import image_noise
from .model import DeblendResult, scaled_bands, splitter_input

__all__ = ["splitter_attribution", "result_attribution", "own_to_neighbours", "explain"]


def splitter_attribution(model, images: np.ndarray, centres: np.ndarray, k: int, *, sigma=None,
                         steps: int = 16) -> tuple[np.ndarray, tuple[int, int]]:
    """(attribution (band, STAMP, STAMP), the stamp's (y0, x0) in the image) for the galaxy at ``centres[k]``
    (x, y) of ``images`` (band, y, x); the attributions add up to its predicted flux in σ units."""
    import torch

    _, scaled = scaled_bands(images, sigma)
    x_in, origin = splitter_input(scaled, np.asarray(centres, float), k)
    device = next(model.parameters()).device
    x = torch.from_numpy(x_in)[None].to(device)
    bands, marks = x[:, :model.n_bands], x[:, model.n_bands:]
    total = torch.zeros_like(bands)
    for alpha in (np.arange(steps) + 0.5) / steps:          # midpoint rule from the empty sky
        point = (float(alpha) * bands).requires_grad_(True)
        flux = model.split(torch.cat([point, marks], dim=1)).sum()
        (grad,) = torch.autograd.grad(flux, point)
        total += grad
    return (bands * total / steps)[0].detach().cpu().numpy(), (int(origin[0]), int(origin[1]))


def result_attribution(model, image, result: DeblendResult, k: int, *, steps: int = 16):
    """:func:`splitter_attribution` for row ``k`` of a model deblending of a MultibandImage."""
    centres = np.column_stack([np.asarray(result.catalogue["x"], float), np.asarray(result.catalogue["y"], float)])
    return splitter_attribution(model, image.data, centres, k, sigma=image_noise(image), steps=steps)


def own_to_neighbours(attribution: np.ndarray, segmap: np.ndarray, label: int) -> float:
    """Mean |attribution| (summed over bands) on the pixels of mask ``label`` over that on the other masks of
    ``segmap`` (a stamp of the same shape); NaN when either is empty."""
    a = np.abs(attribution).sum(axis=0)
    own, others = segmap == label, (segmap > 0) & (segmap != label)
    return float(a[own].mean() / a[others].mean()) if own.any() and others.any() else float("nan")


def explain(image, result: DeblendResult, k: int, *, steps: int = 16):
    """:func:`result_attribution` of the shipped deblend_unet: what the app and CLI call (no registry there)."""
    from ...registry import load_model

    return result_attribution(load_model("deblend_unet"), image, result, k, steps=steps)
