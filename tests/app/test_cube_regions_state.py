"""The cube page's Regions tab without a browser: a drawn box, circle and lasso become regions whose table rows
are numpy's statistics on the same pixels; channel moves re-read nothing; import, export, delete, errors."""
from __future__ import annotations

import numpy as np
import pytest
from bokeh.events import SelectionGeometry

from astroml_core.analysis.regions import MAX_REGION_FILE_CHARS, parse_regions
from astroml_core.sim.hi import DEMO_CUBE, small_config, write_hi_cube


@pytest.fixture
def page(data_root):
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=9, config=small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def _drag(page, mode: str, geometry: dict) -> None:
    page.regions.mode.value = mode
    page.regions._drawn(SelectionGeometry(page.image.fig, geometry=geometry, final=True))


def _power_of_1000(ratio: float) -> bool:
    """The display scale of a Jy-based unit (Jy, mJy, µJy)."""
    return any(ratio == pytest.approx(k, rel=1e-4) for k in (1.0, 1e3, 1e6))


def _row(page, name: str) -> dict:
    df = page.regions.table.value
    return df[df["id"] == name].iloc[0].to_dict()


def test_a_dragged_circle_gets_numpy_statistics_for_the_channel_and_the_map_range(page):
    _drag(page, "circle", dict(type="rect", x0=20.3, x1=36.1, y0=30.2, y1=44.0))
    cube = page.cube
    yy, xx = np.mgrid[0:cube.shape[1], 0:cube.shape[2]]
    cx, cy, r = (20.3 + 36.1) / 2, (30.2 + 44.0) / 2, (44.0 - 30.2) / 2
    mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r ** 2
    scale, unit = page._display_unit("Channel")
    row = _row(page, "R1")
    assert row["shape"] == "circle" and row["pixels"] == mask.sum()
    plane = cube.channel(page.channel)[mask].astype(np.float64)
    assert float(row["sum"]) == pytest.approx(plane.sum() * scale, rel=1e-4)
    assert float(row["mean"]) == pytest.approx(plane.mean() * scale, rel=1e-4)
    assert float(row["max"]) == pytest.approx(plane.max() * scale, rel=1e-4)
    assert float(row["flux"]) == pytest.approx(plane.sum() / cube.beam_areas()[0], rel=1e-4)
    page.channel = 10                                        # a channel move re-reads nothing
    assert float(_row(page, "R1")["mean"]) == pytest.approx(cube.channel(10)[mask].mean(dtype=np.float64) * scale,
                                                            rel=1e-4)
    page.moment_channels = (5, 20)
    voxels = cube.subcube((5, 21), (0, cube.shape[1]), (0, cube.shape[2]))[:, mask].astype(np.float64)
    assert float(_row(page, "R1")["range_max"]) == pytest.approx(voxels.max() * scale, rel=1e-4)
    assert any(g.startswith("Channels 5–20 ·") for g in page.regions.table.groups)
    spectrum = page.spectrum_view.region_source.data["flux"]
    assert len(spectrum) == cube.n_channels
    raw = cube.subcube((0, cube.n_channels), (0, cube.shape[1]), (0, cube.shape[2]))[:, mask].sum(axis=1,
                                                                                                 dtype=np.float64)
    ratio = spectrum / raw
    assert np.allclose(ratio, ratio[0], rtol=1e-5) and _power_of_1000(ratio[0])
    page.regions.statistic.value = "mean"
    mean = page.spectrum_view.region_source.data["flux"]
    mean_ratio = mean / (raw / mask.sum())
    assert np.allclose(mean_ratio, mean_ratio[0], rtol=1e-5) and _power_of_1000(mean_ratio[0])
    assert page.spectrum_view.legend_items[1].visible and "R1 (mean)" in str(page.spectrum_view.legend_items[1].label)


def test_a_lasso_becomes_a_polygon_and_a_box_drawn_while_panning_is_a_box(page):
    _drag(page, "polygon", dict(type="poly", x=[10.5, 30.5, 30.5, 10.5], y=[10.5, 10.5, 20.5, 20.5]))
    page.regions.mode.value = "pan"
    page.regions._drawn(SelectionGeometry(page.image.fig, geometry=dict(type="rect", x0=2.2, x1=8.7, y0=3.1, y1=9.9),
                                          final=True))
    rows = page.regions.table.value
    assert list(rows["shape"]) == ["polygon", "box"]
    assert list(rows["pixels"]) == [20 * 10, 6 * 6]
    assert len(page.regions.source.data["xs"]) == 2


def test_a_region_off_the_image_or_between_pixel_centres_is_refused_in_the_banner(page):
    _drag(page, "box", dict(type="rect", x0=-40, x1=-20, y0=5, y1=9))
    assert "The region lies outside the image" in page.banner.error_text
    _drag(page, "box", dict(type="rect", x0=3.2, x1=3.8, y0=3.2, y1=3.8))
    assert "The region holds no pixel" in page.banner.error_text
    assert page.regions.table.value is None and page.regions.entries == []


def test_import_draws_the_file_regions_and_says_what_was_skipped_escaped(page):
    text = "# Region file format: DS9\nimage\ncircle(20,20,6) # text={<b>x</b>}\npoint(5,5)\n"
    page.regions.import_text(text.encode(), "<img src=x onerror=alert(1)>.reg")
    status = page.regions.status.object
    assert "1 region imported" in status and "<img" not in status and "&lt;img" in status and "point" in status
    assert page.regions.entries[0].region.params == (19.0, 19.0, 6.0)
    assert page.regions.entries[0].region.name == "<b>x</b>"
    page.regions.import_text(b"\xff\xfe junk", "bad.reg")
    assert "Could not read the region file" in page.banner.error_text and "not UTF" in page.banner.error_text
    page.regions.import_text(b"nothing here\n", "bad.reg")
    assert "no circle, ellipse, box or polygon" in page.banner.error_text


def test_export_writes_every_region_in_sky_coordinates_and_reads_back(page):
    _drag(page, "ellipse", dict(type="rect", x0=10.2, x1=30.9, y0=12.3, y1=20.1))
    _drag(page, "box", dict(type="rect", x0=40.2, x1=50.9, y0=42.3, y1=50.1))
    for i, fmt in enumerate(("ds9", "crtf")):
        text = page.regions._export(fmt).getvalue()
        back = parse_regions(text, wcs=page.cube.celestial)
        assert [r.shape for r in back.regions] == ["ellipse", "box"]
        for a, b in zip((e.region for e in page.regions.entries), back.regions):
            np.testing.assert_allclose(a.params, b.params, atol=2e-3)
    assert page.regions.exports[0].filename.endswith("_regions.reg")


def test_delete_removes_the_chosen_region_and_a_new_cube_removes_all(page):
    for x in (5.2, 25.2, 45.2):
        _drag(page, "box", dict(type="rect", x0=x, x1=x + 8, y0=5.2, y1=13.1))
    page.regions.table.selection = [1]
    page.regions.delete_selected()
    assert [e.region.name for e in page.regions.entries] == ["R1", "R3"]
    assert len(page.regions.source.data["xs"]) == 2
    page.source.open_demo()
    page.file = "other"                   # a new cube (the same demo file reopened keeps its link path)
    assert page.regions.entries == [] and page.regions.source.data["xs"] == []
    assert len(page.spectrum_view.region_source.data["flux"]) == 0


def test_the_drawing_tools_select_only_the_regions_own_outlines(page):
    tools = (page.regions.box_tool, page.regions.lasso_tool)
    assert all(t.renderers == [page.regions.renderer] for t in tools)
    assert all(t in page.image.fig.tools for t in tools)
    page.regions.mode.value = "polygon"
    assert page.image.fig.toolbar.active_drag is page.regions.lasso_tool
    page.regions.mode.value = "pan"
    assert page.image.fig.toolbar.active_drag is not page.regions.lasso_tool


def test_an_oversized_region_file_is_refused_before_it_is_read(page, monkeypatch):
    from app.pages.cubes import regions as tool

    monkeypatch.setattr(tool, "parse_regions", lambda *a, **k: pytest.fail("an oversized file was parsed"))
    page.regions.import_text(b"#" * (MAX_REGION_FILE_CHARS + 1), "big.reg")
    assert "Too large" in page.banner.error_text and page.regions.entries == []
