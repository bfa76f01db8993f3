"""The one-galaxy generator: determinism, the resolution cut, and Ω_m acting through the dark matter."""
from __future__ import annotations

import numpy as np

from astroml_core.sim.galaxies import GALAXY_FIDUCIAL, GALAXY_PARAMETER_NAMES, PROPERTIES, simulate_galaxies


def _universe(omega_m: float, n: int = 4000, seed: int = 1) -> np.ndarray:
    theta = np.tile([dict(GALAXY_FIDUCIAL, omega_m=omega_m)[k] for k in GALAXY_PARAMETER_NAMES], (n, 1))
    return simulate_galaxies(theta, seed=seed)


def test_galaxies_are_seeded_and_above_the_stellar_mass_cut():
    a, b = _universe(0.3, 500, 7), _universe(0.3, 500, 7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (500, len(PROPERTIES))
    assert (a[:, 1] >= 9.0).all() and np.isfinite(a).all()


def test_higher_omega_m_means_more_dark_matter_at_fixed_stellar_mass():
    lo, hi = _universe(0.15), _universe(0.45)
    band = lambda g: (g[:, 1] > 10.0) & (g[:, 1] < 10.5)  # noqa: E731
    assert hi[band(hi), 3].mean() > lo[band(lo), 3].mean() + 0.2      # log M_tot
    assert hi[band(hi), 4].mean() > lo[band(lo), 4].mean() + 0.03     # log V_max
