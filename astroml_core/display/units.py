"""Readable display units: Jy/beam data with small values is shown in mJy/beam or µJy/beam, and so on."""
from __future__ import annotations

import astropy.units as u

__all__ = ["display_unit", "pretty_unit"]

_PRETTY = {
    u.Jy / u.beam: "Jy/beam", u.Jy / u.beam * u.Hz: "Jy/beam·Hz", u.Jy / u.beam * u.km / u.s: "Jy/beam·km/s",
    u.Jy: "Jy", u.Jy * u.Hz: "Jy·Hz", u.K: "K", u.K * u.km / u.s: "K·km/s", u.K * u.Hz: "K·Hz",
}


def pretty_unit(unit: u.UnitBase) -> str:
    """Short conventional spelling ('Jy/beam·km/s'), or astropy's own for anything else."""
    for known, text in _PRETTY.items():
        if unit == known:
            return text
    return "" if unit == u.dimensionless_unscaled else unit.to_string()


def display_unit(unit: u.UnitBase, typical: float) -> tuple[float, str]:
    """(scale, label): values in ``unit`` × scale read in the labelled unit.

    Jy- and K-based units get the prefix (none, m, µ) that puts ``typical`` (e.g. the upper colour
    limit) at 0.1 or more; other units are left as they are.
    """
    text = pretty_unit(unit)
    if not (text.startswith("Jy") or text.startswith("K")) or typical == 0:
        return 1.0, text
    for prefix, scale in (("", 1.0), ("m", 1e3), ("µ", 1e6)):
        if abs(typical) * scale >= 0.1:
            break
    return scale, prefix + text
