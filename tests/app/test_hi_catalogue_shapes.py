"""The cube page's detection and region helpers without widgets: which sources a channel shows, their ellipses
(axis ratio from the core's source_shape), and what a drag or a region file gives the Regions tab."""
from __future__ import annotations

from types import SimpleNamespace

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astroml_core.analysis.regions import MAX_REGION_FILE_CHARS
from astroml_core.errors import RegionFileError, TooLargeError
from app.pages.cubes.detections.shapes import FALSE, MATCHED, colours, covering, ellipses
from app.pages.cubes.region_input import MAX_VERTICES, import_report, region_file_text, region_from_drag

REST = 1420.405751e6


def _cube(n=100, first=1.40e9, step=30e3):
    """A stand-in cube: channels ``step`` Hz apart, 2″ pixels, a 7″ beam, sources placed at their RA, Dec."""
    return SimpleNamespace(frequencies=(first + step * np.arange(n)) * u.Hz, rest_frequency=REST * u.Hz,
                           pixel_scale=2 * u.arcsec, beam=SimpleNamespace(major=7 * u.arcsec),
                           pixel_of=lambda sky: (sky.dec.deg * 10, sky.ra.deg * 10))


def _rows():
    return QTable(dict(id=[1, 2], ra=[1.0, 2.0] * u.deg, dec=[0.5, 0.6] * u.deg,
                       central_freq=[1.40e9 + 30e3 * 20, 1.40e9 + 30e3 * 80] * u.Hz, w20=[200.0, 100.0] * u.km / u.s,
                       hi_size=[1.0, 20.0] * u.arcsec, i=[90.0, 0.0] * u.deg, pa=[0.0, 45.0] * u.deg,
                       score=[0.2, 0.9]))


def test_a_channel_shows_the_sources_whose_w20_range_covers_it():
    cube, rows = _cube(), _rows()
    assert covering(rows, cube, 20).tolist() == [True, False]
    assert covering(rows, cube, 80).tolist() == [False, True]
    # 200 km/s at 1.4006 GHz is ±0.47 MHz, ±16 channels (+1 for the channel's own width)
    assert covering(rows, cube, 20 + 16).tolist() == [True, False] and not covering(rows, cube, 20 + 19)[0]


def test_ellipses_keep_a_beam_sized_minimum_and_the_core_axis_ratio():
    e = ellipses(_rows(), _cube())
    assert e["w"] == pytest.approx([0.8 * 7 / 2, 10.0])             # 1″ source drawn at 0.8 beam; 20″ at 10 px
    assert e["h"] == pytest.approx([0.8 * 7 / 2 * 0.2, 10.0])       # edge-on: q0 = 0.2; face-on: round
    assert e["angle"] == pytest.approx(np.radians([90.0, 135.0]))
    assert e["x"] == pytest.approx([10.0, 20.0]) and e["y"] == pytest.approx([5.0, 6.0])


def test_outline_colours_by_verdict_when_compared_else_by_score():
    rows = _rows()
    assert colours(rows, SimpleNamespace(matches={2: 7}), compared=True) == [FALSE, MATCHED]
    assert colours(rows, None, compared=False, default="#4dd0e1") == ["#4dd0e1"] * 2
    low, high = colours(rows, None, compared=False)
    assert low != high


def test_a_drag_gives_the_modes_shape_and_a_lasso_a_thinned_polygon():
    rect = dict(type="rect", x0=2.0, x1=8.0, y0=3.0, y1=9.0)
    assert region_from_drag(rect, "pan").shape == "box" and region_from_drag(rect, "ellipse").shape == "ellipse"
    t = np.linspace(0, 2 * np.pi, 1000)
    poly = region_from_drag(dict(type="poly", x=list(20 + 5 * np.cos(t)), y=list(20 + 5 * np.sin(t))), "polygon")
    assert poly.shape == "polygon" and len(poly.outline()[0]) <= MAX_VERTICES + 1
    assert region_from_drag(dict(type="point"), "box") is None


def test_a_region_file_is_checked_before_it_is_parsed():
    assert region_file_text(b"circle(1,2,3)") == "circle(1,2,3)"
    with pytest.raises(TooLargeError):
        region_file_text(b"#" * (MAX_REGION_FILE_CHARS + 1))
    with pytest.raises(RegionFileError, match="not UTF-8"):
        region_file_text(b"\xff\xfe circle")
    said = import_report("<b>x</b>.reg", "ds9", 1, [f"note {k}" for k in range(7)])
    assert said.startswith("1 region imported from &lt;b&gt;") and said.endswith("note 4…")
