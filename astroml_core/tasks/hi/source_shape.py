"""A catalogued HI source's extent on the sky and along the spectrum, from its SDC2 columns: what the cube page
draws, what catalogue masks cover and what region exports write, computed once here."""
from __future__ import annotations

import numpy as np
from astropy import units as u

from ...constants import C_KMS

__all__ = ["MIN_AXIS_RATIO", "axis_ratio", "w20_half_width_hz"]

MIN_AXIS_RATIO = 0.2     # an edge-on disc's minor/major axis ratio (intrinsic thickness q0 = 0.2, so q² ≥ 0.04)


def axis_ratio(inclination) -> np.ndarray:
    """Minor/major axis ratio of a thick disc seen at ``inclination`` (Quantity or degrees): Hubble's
    q² = cos² i (1 − q0²) + q0²."""
    i = inclination.to_value(u.deg) if hasattr(inclination, "to_value") else np.asarray(inclination, float)
    return np.sqrt(np.cos(np.radians(i)) ** 2 * (1 - MIN_AXIS_RATIO ** 2) + MIN_AXIS_RATIO ** 2)


def w20_half_width_hz(w20, central_freq, rest_freq) -> np.ndarray:
    """Half the line width W20 (velocity Quantity) in Hz at the observed ``central_freq`` (Quantity or Hz):
    dν = ν² dv / (c ν_rest) for the radio velocity convention."""
    nu = central_freq.to_value(u.Hz) if hasattr(central_freq, "to_value") else np.asarray(central_freq, float)
    rest = rest_freq.to_value(u.Hz) if hasattr(rest_freq, "to_value") else float(rest_freq)
    return w20.to_value(u.km / u.s) * nu ** 2 / (C_KMS * rest) / 2
