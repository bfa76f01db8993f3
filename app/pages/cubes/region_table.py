"""The Regions tab's table: one entry per region drawn, its row of statistics, the column titles, widths and
groups (the statistics' unit goes in the group titles); and the entries' outlines as glyph data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroml_core.analysis.regions import Region, RegionChannels, RegionMask

from ...components.safe_text import html_text

__all__ = ["RegionEntry", "TITLES", "WIDTHS", "TABLE_CSS", "CHANNEL_COLUMNS", "RANGE_COLUMNS", "table_row",
           "column_groups", "OUTLINES_EMPTY", "outline_rows"]

TABLE_CSS = [".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } "
             ".tabulator-cell { padding: 3px 6px !important; }"]


@dataclass
class RegionEntry:
    """One region on the page: its id, colour, the cube it was drawn on, its pixels and (once read) its
    per-channel sums."""

    id: str
    region: Region
    mask: RegionMask
    colour: str
    cube: object
    sums: RegionChannels | None = None


CHANNEL_COLUMNS = ["sum", "mean", "rms", "max", "flux"]
RANGE_COLUMNS = ["range_mean", "range_rms", "range_max", "line_flux"]
WIDTHS = {"id": 72, "shape": 68, "centre": 104, "pixels": 66, "beams": 76, "flux": 90, "line_flux": 120} \
    | {k: 80 for k in ["sum", "mean", "rms", "max", "range_mean", "range_rms", "range_max"]}


# column titles; the statistics' unit (e.g. µJy/beam) is in the group titles above them; Beams: the area in beams
TITLES = {"id": "Region", "shape": "Shape", "centre": "Centre (px)", "pixels": "Pixels", "beams": "Beams",
           "sum": "Sum", "mean": "Mean", "rms": "RMS", "max": "Max", "flux": "Flux (Jy)", "range_mean": "Mean",
           "range_rms": "RMS", "range_max": "Max", "line_flux": "Flux (Jy km/s)"}


def table_row(e: RegionEntry, channel: int, lo: int, hi: int, scale: float) -> dict:
    """One table row: the channel's statistics and those over channels lo…hi (blank until the sums are read)."""
    x, y = e.region.centre
    row = dict(id=e.region.name, shape=e.region.shape, centre=f"{x:.1f}, {y:.1f}", pixels=e.mask.n_pixels)
    if e.sums is None:
        return row | {k: "…" for k in ["beams"] + CHANNEL_COLUMNS + RANGE_COLUMNS}
    s, r = e.sums.stats(channel), e.sums.over(lo, hi)
    return row | dict(beams=_g(s.area_beams, 4), sum=_g(s.sum * scale), mean=_g(s.mean * scale),
                      rms=_g(s.rms * scale), max=_g(s.max * scale), flux=_g(s.flux),
                      range_mean=_g(r.mean * scale), range_rms=_g(r.rms * scale), range_max=_g(r.max * scale),
                      line_flux=_g(r.flux_integral))


def _g(value: float, digits: int = 5) -> str:
    """A number with ``digits`` significant digits, '–' for NaN (no finite pixel, or no beam)."""
    return "–" if not np.isfinite(value) else f"{value:.{digits}g}"


def column_groups(channel: int, lo: int, hi: int, unit: str) -> dict[str, list[str]]:
    """Group titles over the statistics of the shown channel and of channels lo…hi, with their unit."""
    return {f"Channel {channel} · {html_text(unit)}": CHANNEL_COLUMNS,
            f"Channels {lo}–{hi} · {html_text(unit)}": RANGE_COLUMNS}


OUTLINES_EMPTY = dict(xs=[], ys=[], x=[], y=[], label=[], color=[], width=[])


def outline_rows(entries: list[RegionEntry], shown: RegionEntry | None) -> dict[str, list]:
    """Glyph data for every entry's outline and label; the ``shown`` one (its spectrum drawn) thicker."""
    rows = {k: [] for k in OUTLINES_EMPTY}
    for e in entries:
        xs, ys = e.region.outline()
        x, y = e.region.centre
        for key, value in zip(OUTLINES_EMPTY, (xs.tolist(), ys.tolist(), x, y, e.region.name, e.colour,
                                               3.5 if e is shown else 2.0)):
            rows[key].append(value)
    return rows
