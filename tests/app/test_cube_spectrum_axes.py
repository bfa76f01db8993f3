"""The spectrum plot draws its axes before any pixel is clicked, and beside a region's spectrum alone (Bokeh drew
no axes at all when the pixel line it followed was empty: "could not set initial ranges")."""
from __future__ import annotations

import math

import pytest

from tests.app.test_cube_page import open_cube_page, wait_until
from tests.app.test_cube_regions import drag, open_regions

pytestmark = pytest.mark.browser

RANGES = """() => { const f = Bokeh.documents[0].get_model_by_name('spectrum-figure');
  const r = f.extra_y_ranges.region;
  return [f.y_range.start, f.y_range.end, r.start, r.end]; }"""
# the painted left axis' tick labels: the axis view's computed ticks and whether their text is shown
LEFT_TICKS = """() => { const f = Bokeh.documents[0].get_model_by_name('spectrum-figure');
  const major = Bokeh.index.find_one(f.left[0]).tick_coords.major;
  return [Math.max(major[0].length, major[1].length), f.left[0].major_label_text_alpha]; }"""


def finite(values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def test_the_empty_spectrum_plot_has_axes_at_page_open(page, server):
    url, _ = server
    open_cube_page(page, url)
    assert wait_until(lambda: finite(page.evaluate(RANGES)), what="both y ranges set")
    ticks, alpha = page.evaluate(LEFT_TICKS)
    assert ticks > 0 and alpha == 0                    # an axis is drawn; its stand-in 0–1 labels are not shown


def test_a_region_spectrum_alone_has_its_axis_and_a_pixel_then_gets_its_own(page, server):
    url, _ = server
    open_regions(page, url)
    page.locator(".region-shape button", has_text="Box").click()
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('cube-figure')"
                           ".toolbar.active_drag?.name === 'region-box-tool'")
    drag(page, 60, 60, 100, 100)
    wait_until(lambda: page.evaluate(
        "() => Bokeh.documents[0].get_model_by_name('region-spectrum-source').data.flux.length > 0"), timeout=40, what="the region spectrum")
    start, end, rstart, rend = page.evaluate(RANGES)
    assert finite([start, end, rstart, rend]) and rend > rstart
    flux = page.evaluate("() => Array.from(Bokeh.documents[0].get_model_by_name('region-spectrum-source').data.flux)")
    assert rstart <= min(flux) and rend >= max(flux)   # the right axis follows the region's line
    assert page.evaluate(LEFT_TICKS)[1] == 0           # no pixel line: no labels on its axis
