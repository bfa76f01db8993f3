"""The cube page's Catalogue tab in real Chromium: a VOTable of demo sources uploaded, drawn where the WCS puts
them and only on the channels their lines span; a table row goes to its source; text from the file is text."""
from __future__ import annotations

import io

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io.votable import from_table
from astropy.table import QTable, Table

from astroml_core.data import open_cube
from astroml_core.sim.hi import DEMO_CUBE, DEMO_TRUTH
from astroml_core.tasks.hi.cutouts import source_window
from tests.app.test_cube_page import MODEL_DATA, TO_SCREEN, channel_state, open_cube_page, text, wait_until

pytestmark = pytest.mark.browser

NAMES = ["<b>bold</b>", "HI-2", "HI-3"]


def _sources(root):
    """Three demo truth sources (brightest first) and the VOTable bytes of them, with UCDs on RA/Dec."""
    truth = QTable.read(root / "demo" / DEMO_TRUTH)
    rows = truth[np.argsort(-np.asarray(truth["snr"]))[:3]]
    table = Table({"name": NAMES, "RAJ2000": rows["ra"].to_value(u.deg), "DEJ2000": rows["dec"].to_value(u.deg),
                   "central_freq": rows["central_freq"].to_value(u.Hz), "w20": rows["w20"].to_value(u.km / u.s)})
    table["RAJ2000"].unit, table["DEJ2000"].unit = u.deg, u.deg
    table["central_freq"].unit, table["w20"].unit = u.Hz, u.km / u.s
    table["RAJ2000"].meta["ucd"], table["DEJ2000"].meta["ucd"] = "pos.eq.ra;meta.main", "pos.eq.dec;meta.main"
    out = io.BytesIO()
    from_table(table).to_xml(out)
    return rows, out.getvalue()


def _drawn(page) -> dict[str, tuple[float, float]]:
    """Label → (x, y) of the catalogue markers drawn now."""
    data = {k: page.evaluate(MODEL_DATA, ["cube-catalogue-source", k]) for k in ("label", "x", "y")}
    return {name: (x, y) for name, x, y in zip(data["label"], data["x"], data["y"])}


def _go_to_channel(page, cube, channel: int) -> None:
    """Click the spectrum at a channel's frequency (the page goes to the nearest channel)."""
    mhz = float(cube.frequencies[channel].to_value(u.MHz))
    page.mouse.click(*page.evaluate(TO_SCREEN, ["spectrum-figure", mhz, 0.0]))
    wait_until(lambda: channel_state(page)[0] == channel, what=f"channel {channel}")


def test_an_uploaded_votable_is_drawn_on_the_channels_its_sources_span(page, server):
    url, root = server
    rows, votable = _sources(root)
    cube = open_cube(root / "demo" / DEMO_CUBE)
    y, x = cube.pixel_of(SkyCoord(rows["ra"], rows["dec"], frame="icrs"))
    windows = [source_window(cube, row) for row in rows]
    open_cube_page(page, url)
    page.locator(".bk-tab", has_text="Catalogue").click()
    page.locator(".catalogue-upload input[type=file]").set_input_files(
        files=[{"name": "sources.xml", "mimeType": "text/xml", "buffer": votable}])
    wait_until(lambda: "3 of 3 sources fall on the image" in text(page, ".catalogue-status"), what="the catalogue")
    status = text(page, ".catalogue-status")
    assert "RA from column RAJ2000 (UCD pos.eq.ra;meta.main, deg)" in status
    assert "line width from column w20 (name, km / s)" in status
    # text from the file is shown as text in the table, not as markup
    cell = page.locator(".catalogue-table .tabulator-cell", has_text="<b>bold</b>")
    cell.wait_for()
    assert cell.evaluate("el => el.querySelector('b') === null && el.textContent.trim()") == "<b>bold</b>"

    page.locator(".catalogue-table .tabulator-row").nth(1).click()            # go to the second source
    first = windows[1]
    wait_until(lambda: first.lo <= channel_state(page)[0] <= first.hi, what="the source's channel")
    drawn = wait_until(lambda: (d := _drawn(page)) and "HI-2" in d and d, what="the marker of HI-2")
    for name, xi, yi, w in zip(NAMES, x, y, windows):                          # where the WCS puts them
        if name in drawn:
            assert drawn[name] == pytest.approx((xi, yi), abs=1e-6)
    fig_range = page.evaluate("() => { const f = Bokeh.documents[0].get_model_by_name('cube-figure');"
                              " return [f.x_range.start, f.x_range.end, f.y_range.start, f.y_range.end]; }")
    assert ((fig_range[0] + fig_range[1]) / 2, (fig_range[2] + fig_range[3]) / 2) == pytest.approx((x[1], y[1]))

    outside = first.hi + 3 if first.hi + 3 < cube.n_channels else first.lo - 3
    _go_to_channel(page, cube, outside)                                        # off its line: the marker goes
    wait_until(lambda: "HI-2" not in _drawn(page), what="HI-2's marker to go")
    for name, w in zip(NAMES, windows):
        assert (name in _drawn(page)) == (w.lo <= outside <= w.hi)
    _go_to_channel(page, cube, (first.lo + first.hi) // 2)                     # back on it: the marker is back
    wait_until(lambda: "HI-2" in _drawn(page), what="HI-2's marker to come back")
    assert _drawn(page)["HI-2"] == pytest.approx((x[1], y[1]), abs=1e-6)
