"""How much Ω_m our galaxy generator puts in each property, measured the way CAMELS measured theirs.

Villaescusa-Navarro+2022 fitted gradient-boosted trees to TNG galaxies with more and more properties and
quoted the Ω_m RMSE at each step (../shared/SCIENCE.md). The same ladder on our generator says, relation by
relation, where it carries as much information as TNG's galaxies and where less; it needs no network, so
it tells the generator's limits apart from the flow's.
"""
from __future__ import annotations

import numpy as np

from ..sim.galaxies import PROPERTIES
from .inference import GALAXY_HELD_OUT_SEED, GALAXY_TRAIN_SEED, galaxy_set

__all__ = ["CAMELS_GB_RMSE", "gradient_boosting_ladder", "generator_ladder"]

# Ω_m RMSE of gradient boosting on IllustrisTNG galaxies (Villaescusa-Navarro+2022): V_max alone, adding M*,
# adding Z*, and all 17 of their properties (we have 11 of them)
CAMELS_GB_RMSE = ((("V_max",), 0.102), (("V_max", "M_star"), 0.082), (("V_max", "M_star", "Z_star"), 0.061),
                  (None, 0.039))


def gradient_boosting_ladder(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                             seed: int = 0) -> list[dict]:
    """Per step of :data:`CAMELS_GB_RMSE`: the properties used (None: all ours), CAMELS' RMSE and ours, from
    gradient-boosted trees fitted on ``train`` (parameters, log properties) and scored on ``test``."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    names = [name for name, _ in PROPERTIES]
    (theta, props), (theta_test, props_test) = train, test
    rows = []
    for used, camels in CAMELS_GB_RMSE:
        cols = [names.index(n) for n in used] if used else list(range(len(names)))
        trees = HistGradientBoostingRegressor(max_iter=500, early_stopping=True, random_state=seed)
        trees.fit(props[:, cols], theta[:, 0])
        rmse = float(np.sqrt(np.mean((trees.predict(props_test[:, cols]) - theta_test[:, 0]) ** 2)))
        rows.append(dict(properties=list(used) if used else None, camels_rmse=camels, rmse=round(rmse, 4)))
    return rows


def generator_ladder(n_train: int = 100_000, n_test: int = 20_000) -> list[dict]:
    """The ladder on ``n_train`` galaxies of the flow's training seed, scored on ``n_test`` of its held-out seed
    (the card's and its test's figures)."""
    return gradient_boosting_ladder(galaxy_set(n_train, GALAXY_TRAIN_SEED), galaxy_set(n_test, GALAXY_HELD_OUT_SEED))
