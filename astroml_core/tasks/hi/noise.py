"""Noise estimates shared by the baseline and the model: robust σ and per-channel normalisation."""
from __future__ import annotations

import numpy as np

__all__ = ["robust_sigma", "normalise"]


def robust_sigma(values: np.ndarray, sample: int = 1_000_000) -> float:
    """1.4826 × median absolute deviation of the finite values (a strided sample for big arrays)."""
    flat = values.ravel()
    flat = flat[:: max(1, flat.size // sample)]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return float("nan")
    return float(1.4826 * np.median(np.abs(flat - np.median(flat))))


def normalise(data: np.ndarray, sample: int = 1_000_000) -> tuple[np.ndarray, np.ndarray]:
    """(data / σ per channel as float32 with NaN → 0, σ per channel); noise varies across the band."""
    per_channel = max(1, sample // max(1, data.shape[0]))
    sigma = np.array([robust_sigma(ch, per_channel) for ch in data], dtype=np.float32)
    good = np.isfinite(sigma) & (sigma > 0)
    sigma[~good] = np.median(sigma[good]) if good.any() else 1.0
    return np.nan_to_num(data / sigma[:, None, None], nan=0.0).astype(np.float32), sigma
