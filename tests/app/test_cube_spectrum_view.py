"""The spectrum plot's y ranges follow each line's extent through an unseen stand-in (never by swapping a range's
renderers, which made Bokeh walk every model of the page), and its legend names only the lines drawn."""
from __future__ import annotations

import numpy as np

from app.pages.cubes.spectrum_view import SpectrumView


def _ranged(view: SpectrumView) -> tuple[list, list]:
    """The y extents the two ranges follow (pixel's, region's)."""
    pixel, region = view.fig.y_range.renderers[0], view.fig.extra_y_ranges["region"].renderers[0]
    return list(pixel.data_source.data["y"]), list(region.data_source.data["y"])


def test_ranges_follow_each_line_and_axes_show_only_with_a_line():
    view = SpectrumView(on_tap=lambda f: None)
    renderers = (list(view.fig.y_range.renderers), list(view.fig.extra_y_ranges["region"].renderers))
    assert _ranged(view) == ([0.0, 1.0], [0.0, 1.0])
    assert not view.fig.yaxis[0].visible and not view.region_axis.visible
    freq = np.linspace(1400.0, 1410.0, 6)
    view.show_region(freq, np.array([np.nan, -2.0, 0.5, 3.0, 1.0, np.nan]), "R1 (sum)", "Region R1 (mJy)")
    assert _ranged(view) == ([0.0, 1.0], [-2.0, 3.0])           # NaNs ignored
    assert view.region_axis.visible and not view.fig.yaxis[0].visible
    view.show(freq, np.array([0.1, 0.4, -0.3, 0.2, 0.0, 0.1]), "pixel (1, 2)", "Flux density (mJy/beam)")
    assert _ranged(view) == ([-0.3, 0.4], [-2.0, 3.0]) and view.fig.yaxis[0].visible
    view.clear_region()
    assert _ranged(view)[1] == [0.0, 1.0] and not view.region_axis.visible
    view.show(freq, np.full(6, np.nan), "pixel (3, 3)", "Flux density")   # all blanked: no axis of 0–1 ticks
    assert not view.fig.yaxis[0].visible
    assert (list(view.fig.y_range.renderers), list(view.fig.extra_y_ranges["region"].renderers)) == renderers


def test_the_legend_names_the_region_and_the_pixel_only_once_there_is_a_pixel_line():
    view = SpectrumView(on_tap=lambda f: None)
    pixel, region = view.legend_items
    assert view.legend.visible and not pixel.visible and not region.visible
    freq = np.linspace(1400.0, 1410.0, 4)
    view.show_region(freq, np.ones(4), "R1 (sum)", "Region R1 (mJy)")
    assert region.visible and not pixel.visible                   # no pixel line to name yet
    view.show(freq, np.ones(4), "pixel (1, 2)", "Flux density")
    assert region.visible and pixel.visible
    view.clear_region()
    assert not region.visible and not pixel.visible               # one line needs no legend
