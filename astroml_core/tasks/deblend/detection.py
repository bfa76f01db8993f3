"""The detection image shared by the model and the baselines: an S/N-weighted sum of the bands."""
from __future__ import annotations

import numpy as np

from ..hi.noise import robust_sigma

__all__ = ["band_noise", "image_noise", "detection_image"]


MASK_SNR, MASK_GROW = 3.0, 2     # source pixels: the S/N-weighted band sum above 3σ, grown by 2 px


def band_noise(images: np.ndarray) -> np.ndarray:
    """Robust sky σ per band, for data whose sky is subtracted: 1.4826 MAD of each plane's pixels outside the
    sources, masked twice from the last estimate (the plain MAD counts galaxy wings as noise: +10 % on crowded
    fields); the plain MAD where the sources leave under a tenth of the pixels."""
    from scipy import ndimage

    sigma = np.array([robust_sigma(plane) for plane in images], dtype=np.float32)
    for _ in range(2):
        ok = np.isfinite(sigma) & (sigma > 0)
        if not ok.any():
            break
        det = np.nan_to_num(images[ok] / sigma[ok, None, None]).sum(axis=0) / np.sqrt(ok.sum())
        sky = ~ndimage.binary_dilation(det > MASK_SNR, iterations=MASK_GROW)
        if sky.mean() < 0.1:
            break
        sigma = np.array([robust_sigma(plane[sky]) for plane in images], dtype=np.float32)
    return sigma


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
