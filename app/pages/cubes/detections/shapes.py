"""What the HI panel draws for a catalogue: which sources a channel shows, their ellipses in pixels, their outline
colours, and the legend of compare mode. The shapes' science is :mod:`astroml_core.tasks.hi.source_shape`."""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable
from bokeh import palettes

from astroml_core.tasks.hi.source_shape import axis_ratio, w20_half_width_hz

__all__ = ["MATCHED", "FALSE", "MISSED", "EMPTY", "EMPTY_ELLIPSE", "covering", "ellipses", "colours", "legend",
           "rows_of"]

MATCHED, FALSE, MISSED = "#2ca02c", "#e0302f", "#ff9f1c"
SCORE_PALETTE = palettes.Plasma256[40:]
EMPTY = dict(x=[], y=[], w=[], h=[], angle=[], color=[])
EMPTY_ELLIPSE = dict(x=[], y=[], w=[], h=[], angle=[])


def covering(rows: QTable, cube, channel: int) -> np.ndarray:
    """Which rows' W20 range (± one channel) covers ``channel`` of ``cube``."""
    freqs = cube.frequencies.to_value(u.Hz)
    if freqs.size < 2:
        return np.ones(len(rows), bool)
    nu = rows["central_freq"].to_value(u.Hz)
    half = w20_half_width_hz(rows["w20"], nu, cube.rest_frequency)
    return np.abs(freqs[channel] - nu) <= half + abs(freqs[1] - freqs[0])


def ellipses(rows: QTable, cube) -> dict:
    """Ellipse glyph data in pixels: centre, major axis hi_size (at least 0.8 beam), axis ratio from i, and the
    major axis at PA East of North (East is −x, so the angle from +x is PA + 90°)."""
    pix = cube.pixel_scale.to_value(u.arcsec)
    beam = cube.beam.major.to_value(u.arcsec) if cube.beam else 3 * pix
    y, x = cube.pixel_of(_sky(rows)) if len(rows) else ([], [])
    major = np.maximum(rows["hi_size"].to_value(u.arcsec), 0.8 * beam) / pix
    q = axis_ratio(rows["i"])
    return dict(x=list(np.atleast_1d(x)), y=list(np.atleast_1d(y)), w=list(major), h=list(major * q),
                angle=list(np.radians(rows["pa"].to_value(u.deg) + 90)))


def colours(rows: QTable, verdict, compared: bool, default: str | None = None) -> list[str]:
    """Outline colours: matched / false against the truth when ``compared`` (``verdict``: the ska-sdc result),
    else ``default``, else by score."""
    if compared:
        matched = set(verdict.matches) if verdict is not None else set()
        return [MATCHED if int(i) in matched else FALSE for i in rows["id"]]
    if default is not None:
        return [default] * len(rows)
    top = len(SCORE_PALETTE) - 1
    return [SCORE_PALETTE[int(np.clip(s, 0, 1) * top)] for s in np.asarray(rows["score"], float)]


def legend(method: str, other: str | None, truth: bool) -> str:
    """What the outlines mean in compare mode."""
    swatch = '<span style="color:{};font-weight:bold">{}</span>'.format
    parts = [f"solid: {method}"] + ([f"dotted: {other} (accepted)"] if other else ["run the other finder to overlay it"])
    if truth:
        parts += ["dashed: truth", swatch(MATCHED, "matched"), swatch(FALSE, "false"), swatch(MISSED, "missed")]
    return " · ".join(parts)


def rows_of(row) -> QTable:
    """A one-row table from a table row."""
    return row.table[[row.index]]


def _sky(rows):
    from astropy.coordinates import SkyCoord

    return SkyCoord(rows["ra"], rows["dec"], frame="icrs")
