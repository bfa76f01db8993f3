"""Fit galaxy_flow's applicability reference.

``python -m astroml_core.train galaxy-applicability`` whitens :data:`N_REFERENCE` galaxies of the training generator
(seed :data:`REFERENCE_SEED`, never used to train or score the flow) and sets the threshold at the
:data:`QUANTILE` of the distances of :data:`N_TUNING` separate tuning galaxies (seed :data:`TUNING_SEED`): no
foreign galaxy is looked at. Writes ``assets/models/galaxy_flow/applicability.npz`` (a few kB), which
:mod:`..tasks.inference.galaxy_applicability` reads. The flow's weights are not touched.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..metrics.applicability import whitened_distance, whitening
from .inference import galaxy_set

__all__ = ["REFERENCE_SEED", "TUNING_SEED", "N_REFERENCE", "N_TUNING", "QUANTILE", "fit", "run"]

REFERENCE_SEED, TUNING_SEED = 6_100, 6_200        # galaxy_set uses seed and seed + 1
N_REFERENCE, N_TUNING = 40_000, 10_000
QUANTILE = 0.99


def fit(reference: np.ndarray, tuning: np.ndarray, quantile: float = QUANTILE) -> dict:
    """Arrays of the reference: mean and whitening of ``reference`` (all axes), threshold = ``quantile`` of the
    distances of ``tuning``."""
    mean, whiten = whitening(np.asarray(reference, dtype=float), reference.shape[1])
    dist = whitened_distance(np.asarray(tuning, dtype=float), mean, whiten)
    return dict(mean=mean, whiten=whiten, threshold=np.float64(np.quantile(dist, quantile)),
                quantile=np.float64(quantile))


def run(output: Path | None = None) -> Path:
    """Fit on the generator's reference and tuning galaxies; write the .npz beside galaxy_flow's weights."""
    from ..registry import MODEL_DIR
    from ..tasks.inference.galaxy_applicability import APPLICABILITY_FILE

    arrays = fit(galaxy_set(N_REFERENCE, REFERENCE_SEED)[1], galaxy_set(N_TUNING, TUNING_SEED)[1])
    arrays.update(reference_seed=np.int64(REFERENCE_SEED), tuning_seed=np.int64(TUNING_SEED))
    path = output or MODEL_DIR / "galaxy_flow" / APPLICABILITY_FILE
    np.savez_compressed(path, **arrays)
    print(f"threshold {float(arrays['threshold']):.3f} (the {QUANTILE:.0%} distance of {N_TUNING} tuning galaxies)")
    return path
