"""The one wavelength grid every spectrum is placed on: SDSS BOSS coadds' log10 λ from 3.5798 in steps of 1e-4
(69 km/s per pixel), 3,840 pixels over 3,800–9,200 Å.

It lives with the loaders (which place foreign files on it) rather than with the simulator (which draws its
spectra on it), so that the data layer needs nothing from :mod:`astroml_core.sim`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["LOGLAM0", "DLOGLAM", "N_PIXELS", "loglam_grid"]

LOGLAM0, DLOGLAM, N_PIXELS = 3.5798, 1e-4, 3840


def loglam_grid() -> np.ndarray:
    """The SDSS-like log10 λ grid (3,840 pixels, 3,800–9,200 Å)."""
    return LOGLAM0 + DLOGLAM * np.arange(N_PIXELS)
