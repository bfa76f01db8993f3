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
# whether each y axis is shown, and the width of the canvas and of the right-hand axis' panel as painted
AXES = """() => { const f = Bokeh.documents[0].get_model_by_name('spectrum-figure');
  const v = Bokeh.index.find_one(f), right = Bokeh.index.find_one(f.right[0]);
  return {left: f.left[0].visible, right: f.right[0].visible, canvas: v.canvas_view.el.getBoundingClientRect().width,
          frame_end: v.frame.bbox.x1, right_panel: right.layout ? right.layout.bbox.width : 0}; }"""


def finite(values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def test_the_empty_spectrum_plot_has_axes_at_page_open(page, server):
    url, _ = server
    open_cube_page(page, url)
    assert wait_until(lambda: finite(page.evaluate(RANGES)), what="both y ranges set")
    axes = page.evaluate(AXES)
    assert not axes["left"] and not axes["right"]       # no line yet: no axis showing the stand-in's 0–1


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
    axes = page.evaluate(AXES)
    assert axes["right"] and not axes["left"]            # no pixel line: no axis for it
    # the right axis' ticks and label fit inside the canvas (its width is fixed; labels were cut)
    assert axes["right_panel"] > 40 and axes["frame_end"] + axes["right_panel"] <= axes["canvas"] + 0.5
