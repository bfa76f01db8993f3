"""Two pixels clicked in quick succession on the cube image each get their spectrum, and two channels clicked in
quick succession on the spectrum each are gone to (Bokeh reports a second tap within 0.3 s as a double tap,
wherever it falls)."""
from __future__ import annotations

import pytest

from astroml_core.bench.served import TO_SCREEN
from tests.app.test_cube_page import channel_state, open_cube_page, wait_until

pytestmark = pytest.mark.browser

TITLE = "() => Bokeh.documents[0].get_model_by_name('spectrum-figure').title.text"


def test_a_second_pixel_clicked_within_a_double_tap_interval_shows_its_spectrum(page, server):
    url, _ = server
    open_cube_page(page, url)
    (x0, y0), (x1, y1) = (page.evaluate(TO_SCREEN, ["cube-figure", x, y]) for x, y in ((60, 70), (150, 120)))
    page.mouse.click(x0, y0)
    page.wait_for_timeout(120)                       # well within Bokeh's 300 ms double-tap threshold
    page.mouse.click(x1, y1)
    wait_until(lambda: "pixel (150, 120)" in page.evaluate(TITLE), what="the second pixel's spectrum")
    assert "pixel (150, 120)" in page.evaluate(TITLE)


def test_a_double_click_on_one_pixel_selects_it(page, server):
    url, _ = server
    open_cube_page(page, url)
    x, y = page.evaluate(TO_SCREEN, ["cube-figure", 90, 40])
    page.mouse.dblclick(x, y)
    wait_until(lambda: "pixel (90, 40)" in page.evaluate(TITLE), what="the pixel's spectrum")
    assert "pixel (90, 40)" in page.evaluate(TITLE)


def test_a_second_channel_clicked_on_the_spectrum_within_a_double_tap_interval_is_gone_to(page, server):
    import astropy.units as u

    from astroml_core.data import open_cube
    from astroml_core.sim.hi import DEMO_CUBE

    url, root = server
    mhz = open_cube(root / "demo" / DEMO_CUBE).frequencies.to_value(u.MHz)
    open_cube_page(page, url)
    first, second = (page.evaluate(TO_SCREEN, ["spectrum-figure", float(mhz[c]), 0.0]) for c in (100, 300))
    page.mouse.click(*first)
    wait_until(lambda: channel_state(page)[0] == 100, what="channel 100")
    page.mouse.click(*second)                        # as soon as the first has been answered: a "double tap"
    wait_until(lambda: channel_state(page)[0] == 300, what="channel 300")
