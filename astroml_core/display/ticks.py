"""Sky-coordinate ticks for image axes drawn in pixel space, placed where WCS grid lines cross the frame.

Like WCSAxes: the bottom axis gets ticks where lines of constant longitude (RA or l) cross the
bottom edge, the left axis where lines of constant latitude (Dec or b) cross the left edge, so the
labels are exact for any projection, not a linear approximation.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle
from astropy.wcs import WCS

__all__ = ["Tick", "sky_ticks", "pixel_ticks", "axis_labels"]

# candidate spacings in arcsec; for RA in seconds of time these are multiplied by 15
_ARCSEC_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                 18000, 36000, 54000, 108000, 216000, 324000]


@dataclass(frozen=True)
class Tick:
    """A tick at pixel ``position`` along its axis, with its label."""

    position: float
    label: str


def _is_ra(wcs: WCS) -> bool:
    return wcs.wcs.ctype[wcs.wcs.lng].upper().startswith("RA")


def axis_labels(wcs: WCS | None) -> tuple[str, str]:
    """Axis titles: 'RA (ICRS)' / 'Dec (ICRS)', 'Galactic l' / 'Galactic b', or pixel labels."""
    if wcs is None:
        return "x (pixel)", "y (pixel)"
    if _is_ra(wcs):
        frame = (wcs.wcs.radesys or "ICRS").strip() or "ICRS"
        if frame.startswith("FK") and wcs.wcs.equinox:
            frame = f"{frame} J{wcs.wcs.equinox:g}" if frame == "FK5" else f"{frame} B{wcs.wcs.equinox:g}"
        return f"RA ({frame})", f"Dec ({frame})"
    names = {"GLON": ("Galactic l", "Galactic b"), "ELON": ("Ecliptic λ", "Ecliptic β"),
             "SLON": ("Supergalactic L", "Supergalactic B")}
    return names.get(wcs.wcs.ctype[wcs.wcs.lng][:4].upper(), ("longitude", "latitude"))


def _choose_step(span_arcsec: float, ra: bool, target: int) -> float:
    scale = 15.0 if ra else 1.0
    for step in _ARCSEC_STEPS:
        if span_arcsec / (step * scale) <= target:
            return step * scale
    return _ARCSEC_STEPS[-1] * scale


def _format(value_deg: float, ra: bool, step_arcsec: float) -> str:
    angle = Angle(value_deg, u.deg)
    if ra:
        precision = 0 if step_arcsec >= 15 else 1
        return angle.wrap_at(360 * u.deg).to_string(unit=u.hour, sep="hms", precision=precision,
                                                    pad=True)
    precision = 0 if step_arcsec >= 1 else 1
    return angle.to_string(unit=u.deg, sep=("°", "′", "″"), precision=precision, alwayssign=True, pad=True)


def sky_ticks(wcs: WCS, axis: str, lo: float, hi: float, edge: float, target: int = 5) -> list[Tick]:
    """Ticks for the 'x' (longitude, along the row y = ``edge``) or 'y' (latitude, along the column
    x = ``edge``) axis over the pixel range [lo, hi]."""
    along = np.linspace(lo, hi, 256)
    fixed = np.full_like(along, edge)
    px, py = (along, fixed) if axis == "x" else (fixed, along)
    lon, lat = wcs.wcs_pix2world(px, py, 0)
    world = np.unwrap(np.radians(lon)) * 180 / np.pi if axis == "x" else lat
    ok = np.isfinite(world)
    if ok.sum() < 2:
        return []
    world, along = world[ok], along[ok]
    ra = axis == "x" and _is_ra(wcs)
    span = abs(world[-1] - world[0]) * 3600
    step = _choose_step(span, ra, target)
    lo_w, hi_w = sorted((world[0], world[-1]))
    values = np.arange(np.ceil(lo_w * 3600 / step), np.floor(hi_w * 3600 / step) + 1) * step / 3600
    order = np.argsort(world)
    positions = np.interp(values, world[order], along[order])
    return [Tick(float(p), str(_format(v % 360 if axis == "x" else v, ra, step))) for p, v in zip(positions, values)]


def pixel_ticks(lo: float, hi: float, target: int = 5) -> list[Tick]:
    """Plain pixel-number ticks, for cubes without a celestial WCS."""
    span = max(hi - lo, 1)
    step = max(1, int(10 ** np.floor(np.log10(span / target))))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= target:
            step *= m
            break
    first = int(np.ceil(lo / step) * step)
    return [Tick(float(v), str(v)) for v in range(first, int(hi) + 1, step)]
