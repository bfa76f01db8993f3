"""The cube page's Catalogue tab without a browser: a catalogue placed on the cube, drawn only on the channels
its sources span, a row click going to a source, a catalogue opened by path, errors in the banner."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from astroml_core.sim.hi import DEMO_CUBE, DEMO_TRUTH, small_config, write_hi_cube


@pytest.fixture
def page(data_root):
    """A CubePage over a private data root whose demo is a small simulated cube with its truth."""
    write_hi_cube(data_root / "demo" / DEMO_CUBE, 4, data_root / "demo" / DEMO_TRUTH, small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def _catalogue(page):
    cube = page.cube
    return QTable({"name": ["<i>A</i>", "B", "far"], "RAJ2000": [180.0, 180.01, 185.0] * u.deg,
                   "DEJ2000": [-30.0, -30.01, -30.0] * u.deg,
                   "freq": cube.frequencies[[10, 60, 10]].to(u.MHz), "w50": [60.0, 60.0, 60.0] * u.km / u.s})


def test_a_catalogue_is_drawn_only_on_the_channels_its_sources_span(page):
    tool = page.catalogue_overlay
    tool.show("cat.ecsv", _catalogue(page))
    placed = tool.placed
    assert len(placed) == 2 and placed.n_off_image == 1
    assert "2 of 3 sources fall on the image (1 off the image)" in tool.status.object
    assert "RA from column RAJ2000 (name, deg)" in tool.status.object
    page.channel = 10
    assert tool.source.data["label"] == ["<i>A</i>"]
    y, x = page.cube.pixel_of(SkyCoord(180 * u.deg, -30 * u.deg))
    assert (tool.source.data["x"][0], tool.source.data["y"][0]) == pytest.approx((x, y))
    page.channel = 35
    assert tool.source.data["label"] == []
    page.param.update(view="Moment 0", moment_channels=(0, 95))
    assert tool.source.data["label"] == ["<i>A</i>", "B"]
    assert list(tool.table.value["name"]) == ["<i>A</i>", "B"]


def test_a_row_click_goes_to_the_source_and_its_channel(page):
    tool = page.catalogue_overlay
    tool.show("cat.ecsv", _catalogue(page))
    tool.go_to(1)
    assert page.view == "Channel" and page.channel == 60
    x0, x1, y0, y1 = page.image.visible()
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((tool.placed.x[1], tool.placed.y[1]))
    assert tool.source.data["label"] == ["B"]


def test_the_demo_truth_opens_by_path_and_a_path_outside_the_root_is_refused(page, data_root, tmp_path):
    tool = page.catalogue_overlay
    tool.open_path("demo/" + DEMO_TRUTH)
    assert tool.placed is not None and len(tool.placed) == len(QTable.read(data_root / "demo" / DEMO_TRUTH))
    assert "frequency from column central_freq" in tool.status.object
    (tmp_path / "outside.csv").write_text("ra,dec\n180,-30\n")
    tool.open_path(str(tmp_path / "outside.csv"))
    assert "That path cannot be opened" in page.banner.error_text


def test_a_catalogue_without_positions_shows_a_typed_error(page):
    tool = page.catalogue_overlay
    tool.show("flux.csv", QTable({"flux": [1.0, 2.0]}))
    assert tool.placed is None and tool.source.data["x"] == []
    assert "No sky positions in the catalogue" in page.banner.error_text and "no sky position columns" in page.banner.error_text
