"""Is an input like the set a model learned from? Shared by the lightcone and galaxy posteriors' applicability checks.

A reference set's summaries are whitened on their leading principal axes; an input's *score* is its Mahalanobis
distance there over a threshold (a high percentile of distances of the reference's own kind), so a score ≤ 1 means
"as usual as that percentile of the reference". What a flagged posterior becomes is each check's own rule.
"""
from __future__ import annotations

import numpy as np

__all__ = ["whitening", "whitened_distance"]


def whitening(s: np.ndarray, n_axes: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, (k, d) projection) of summaries ``s`` (n, d): the ``n_axes`` leading principal axes, each scaled to
    unit variance."""
    mean = s.mean(axis=0)
    _, sv, vt = np.linalg.svd(s - mean, full_matrices=False)
    k = min(n_axes, len(sv))
    rms = sv[:k] / np.sqrt(len(s) - 1)
    return mean, vt[:k] / rms[:, None]


def whitened_distance(s: np.ndarray, mean: np.ndarray, whiten: np.ndarray) -> np.ndarray:
    """Mahalanobis distance of each summary (rows of ``s``, or one summary) on the whitened axes."""
    return np.linalg.norm((np.asarray(s) - mean) @ whiten.T, axis=-1)

