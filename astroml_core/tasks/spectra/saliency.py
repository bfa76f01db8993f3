"""What the spectra classifier looks at: integrated gradients (Sundararajan+17) per pixel.

Attribution of the ensemble's probability for a class to each flux pixel, integrating the gradient
along the straight path from a baseline (zero flux: "no spectrum", with the spectrum's own noise
channel) to the spectrum. Attributions sum to p(class | spectrum) − p(class | baseline) up to the
Riemann error, so they are in probability units and comparable between spectra.
"""
from __future__ import annotations

import numpy as np

from .preprocess import normalise

__all__ = ["integrated_gradients", "explain"]


def integrated_gradients(model, flux: np.ndarray, ivar: np.ndarray, target: np.ndarray | None = None,
                         steps: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(attribution (N, L) per flux pixel, target class index (N,)); target defaults to the predicted class."""
    import torch

    x = torch.from_numpy(normalise(flux, ivar))
    device = next(model.parameters()).device
    x = x.to(device)
    prob = model.probabilities            # the SpectraClassifier protocol, differentiable

    with torch.no_grad():
        if target is None:
            target = prob(x).argmax(dim=1).cpu().numpy()
    t = torch.as_tensor(np.asarray(target), device=device)
    baseline = x.clone()
    baseline[..., 0] = 0.0
    total = torch.zeros_like(x[..., 0])
    for alpha in (np.arange(steps) + 0.5) / steps:          # midpoint rule
        point = (baseline + float(alpha) * (x - baseline)).requires_grad_(True)
        p = prob(point).gather(1, t[:, None]).sum()
        (grad,) = torch.autograd.grad(p, point)
        total += grad[..., 0]
    attribution = (x[..., 0] - baseline[..., 0]) * total / steps
    return attribution.detach().cpu().numpy(), np.asarray(target)


def explain(flux: np.ndarray, ivar: np.ndarray, target: np.ndarray | None = None,
            steps: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """:func:`integrated_gradients` of the shipped classifier: what the app and CLI call (no registry there)."""
    from .model import load

    return integrated_gradients(load(), flux, ivar, target, steps)
