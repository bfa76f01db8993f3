"""The detection image shared by the model and the baselines: an S/N-weighted sum of the bands."""
from __future__ import annotations

import numpy as np

from ..hi.noise import robust_sigma

__all__ = ["band_noise", "image_noise", "detection_image"]


def band_noise(images: np.ndarray) -> np.ndarray:
    """Robust sky σ per band (1.4826 MAD of each (y, x) plane), for data whose sky is subtracted."""
    return np.array([robust_sigma(plane) for plane in images], dtype=np.float32)


def image_noise(image) -> np.ndarray:
    """Sky σ per band of a MultibandImage: the header's SKYSIG where given, else measured from the pixels."""
    sigma = np.array([s if s else np.nan for s in image.sky_sigma], np.float32)
    missing = ~np.isfinite(sigma)
    if missing.any():
        sigma[missing] = band_noise(image.data[missing])
    return sigma


def detection_image(images: np.ndarray, sigma: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """(Σ_b image_b / σ_b, its noise σ = √n_bands): the χ-like image SExtractor-style finders threshold.

    Weighting each band by 1/σ_b keeps a noisy band from drowning faint sources found in the others.
    """
    sigma = band_noise(images) if sigma is None else np.asarray(sigma, np.float32)
    sigma = np.where(np.isfinite(sigma) & (sigma > 0), sigma, 1.0).astype(np.float32)
    det = np.nan_to_num(images / sigma[:, None, None]).sum(axis=0).astype(np.float32)
    return det, float(np.sqrt(len(images)))
