"""Network inputs from (flux, ivar): L2-normalised flux and noise, and 4-pixel bins for the VAE.

Normalising each spectrum by its root-mean-square flux (GaSNet-II's L2 normalisation) removes the
brightness, which says nothing about the class; the second channel tells the network how far to trust
each pixel (σ in the same units, clipped; 1 where a pixel has no data).
"""
from __future__ import annotations

import numpy as np

__all__ = ["normalise", "bin4", "SIGMA_CLIP", "MODEL_ERROR"]

SIGMA_CLIP = 5.0
MODEL_ERROR = 0.02      # per-bin error floor of the VAE's χ², in normalised flux units


def _scale(flux: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Root-mean-square flux over valid pixels, per spectrum (1 where nothing is valid)."""
    n = np.maximum(valid.sum(axis=1), 1)
    rms = np.sqrt(np.einsum("ij,ij->i", flux, flux) / n)
    return np.where(rms > 0, rms, 1.0).astype(np.float32)


def normalise(flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
    """(N, L) flux and ivar (no-data pixels zeroed) → (N, L, 2) float32 network input."""
    valid = ivar > 0
    s = _scale(flux, valid)[:, None]
    out = np.empty(flux.shape + (2,), np.float32)
    np.divide(flux, s, out=out[..., 0])
    # σ = 1 / (√ivar · s), clipped at SIGMA_CLIP, and SIGMA_CLIP where a pixel has no data. The same arithmetic
    # as np.where(valid, 1 / (√ivar · s), SIGMA_CLIP), in one buffer: fewer passes over the (N, L) arrays.
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(ivar)
        sigma *= s
        np.divide(1.0, sigma, out=sigma)
    np.copyto(sigma, SIGMA_CLIP, where=~valid)
    np.minimum(sigma, SIGMA_CLIP, out=sigma)
    np.divide(sigma, SIGMA_CLIP, out=out[..., 1])
    return out


def bin4(flux: np.ndarray, ivar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-variance mean of each 4 pixels, normalised as in ``normalise``: (N, L/4, 2) input, (N, L/4) ivar.

    The returned ivar includes the VAE's model-error floor, so bright spectra do not dominate its loss.
    """
    n, length = flux.shape
    s = _scale(flux, ivar > 0)[:, None]
    f = (flux / s).reshape(n, length // 4, 4)
    w = (ivar * s * s).reshape(n, length // 4, 4)
    wsum = w.sum(axis=2)
    mean = np.where(wsum > 0, (f * w).sum(axis=2) / np.maximum(wsum, 1e-30), 0.0)
    with np.errstate(divide="ignore"):
        sigma = np.where(wsum > 0, 1.0 / np.sqrt(np.maximum(wsum, 1e-30)), np.inf)
    x = np.empty((n, length // 4, 2), np.float32)
    x[..., 0] = mean
    x[..., 1] = np.minimum(sigma, SIGMA_CLIP) / SIGMA_CLIP
    ivar_eff = np.where(wsum > 0, 1.0 / (sigma ** 2 + MODEL_ERROR ** 2), 0.0).astype(np.float32)
    return x, ivar_eff
