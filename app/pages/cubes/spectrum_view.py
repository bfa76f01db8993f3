"""A Bokeh spectrum plot: flux vs frequency (MHz), velocity on the top axis, a marker at the channel.

Beside the pixel's spectrum it can draw a region's (sum or mean of its pixels) on an axis of its own at the
right, with a legend naming both. Clicking the plot reports the clicked frequency so the page can jump to
that channel.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh.core.properties import value
from bokeh.events import DoubleTap, Tap
from bokeh.models import (ColumnDataSource, CustomJSTickFormatter, DataRange1d, Legend, LegendItem, LinearAxis,
                          Range1d, Span)
from bokeh.plotting import figure

from astroml_core.constants import C_KMS

from ...components.sources import replace_data

__all__ = ["SpectrumView"]

_AXES_PX = 160        # room for the left and right axes beside a frame of the asked width


class SpectrumView:
    """Step plot of one pixel's spectrum, and optionally a region's, with the current channel marked; the sources
    are named for tests."""

    def __init__(self, *, on_tap: Callable[[float], None], width: int = 560, height: int = 260) -> None:
        self.source = ColumnDataSource(dict(freq=[], flux=[]), name="spectrum-source")
        # a fixed outer width, the frame fitting inside: the canvas never grows when an axis appears or its
        # labels widen (Bokeh lays the plot out again but does not resize its canvas: labels were cut)
        fig = figure(name="spectrum-figure", width=width + _AXES_PX, frame_height=height,
                     tools="xpan,xwheel_zoom,box_zoom,reset,save,crosshair", active_scroll="xwheel_zoom",
                     x_axis_label="Frequency (MHz)", y_axis_label="Flux density",
                     toolbar_location="below", title="Click a pixel in the image to see its spectrum")
        self.pixel = fig.step("freq", "flux", source=self.source, mode="center", line_width=1.4, color="#1f4e99")
        # each y range follows an unseen two-point stand-in holding its line's extent (0–1 while the line is
        # empty: an empty line gives no bounds, and Bokeh then draws no axes at all). Ranging on the stand-in's
        # data, never swapping a range's renderers, keeps a new line one data message: a changed reference
        # made Bokeh walk the whole page's models (~150 ms on the server) and the browser rebuild the plot
        fig.y_range, self._pixel_bounds = _stand_in_range(fig)
        self._add_region_line(fig, self.pixel)
        self.cursor = Span(location=0, dimension="height", line_color="#d62728", line_width=2,
                           line_dash="dashed", name="spectrum-channel-marker", visible=False)
        fig.add_layout(self.cursor)
        self.w20 = [Span(location=0, dimension="height", line_color="#2ca02c", line_width=1.5, visible=False,
                         name=f"spectrum-w20-{side}") for side in ("lo", "hi")]
        for span in self.w20:
            fig.add_layout(span)
        fig.add_layout(Span(location=0, dimension="width", line_color="#888", line_width=1))
        fig.extra_x_ranges = {"velocity": Range1d(0, 1)}
        self.velocity_axis = LinearAxis(x_range_name="velocity", axis_label="Velocity (km/s)")
        fig.add_layout(self.velocity_axis, "above")
        # Bokeh calls a second click within 0.3 s a double tap (and no tap), wherever it falls: it is a channel
        # clicked too, and going to the channel already shown again changes nothing
        for event in (Tap, DoubleTap):
            fig.on_event(event, lambda e: on_tap(e.x) if e.x is not None else None)
        self.fig = fig
        self._bound(self._pixel_bounds, fig.yaxis[0], np.zeros(0))
        self._bound(self._region_bounds, self.region_axis, np.zeros(0))

    def _add_region_line(self, fig, pixel) -> None:
        """A second step line for a region's spectrum, on its own y axis at the right, and the legend."""
        self.region_source = ColumnDataSource(dict(freq=[], flux=[]), name="region-spectrum-source")
        region_range, self._region_bounds = _stand_in_range(fig, "region")
        fig.extra_y_ranges = {"region": region_range}
        self.region = fig.step("freq", "flux", source=self.region_source, mode="center", line_width=1.4,
                               color="#d95f02", y_range_name="region", name="region-spectrum")
        region = self.region
        self.region_axis = LinearAxis(y_range_name="region", axis_label="Region spectrum (draw a region)",
                                      axis_label_text_color="#d95f02", major_label_text_color="#d95f02")
        fig.add_layout(self.region_axis, "right")
        # the legend stays visible and its items come and go: a Legend's own visibility re-lays the plot out
        # (~80 ms in Chromium), an item's only redraws the legend; unframed, it takes no room with no item
        self.legend_items = [LegendItem(label=value("pixel"), renderers=[pixel], visible=False),
                             LegendItem(label=value("region"), renderers=[region], visible=False)]
        self.legend = Legend(items=self.legend_items, location="top_left", name="spectrum-legend",
                             border_line_color=None, label_text_font_size="11px", background_fill_alpha=0.7,
                             spacing=0)
        fig.add_layout(self.legend)

    def show_region(self, frequencies_mhz: np.ndarray, values: np.ndarray, label: str, y_label: str) -> None:
        """Draw a region's spectrum beside the pixel's, on the right-hand axis labelled ``y_label``."""
        values = np.asarray(values, dtype=float)
        self._bound(self._region_bounds, self.region_axis, values)
        replace_data(self.region_source, dict(freq=np.asarray(frequencies_mhz, dtype=float),
                                              flux=values))
        self.region_axis.axis_label = y_label
        self.legend_items[1].label = value(label)
        self._legend(True)

    def clear_region(self) -> None:
        """Remove the region's spectrum (no region left, or a new cube)."""
        self._bound(self._region_bounds, self.region_axis, np.zeros(0))
        replace_data(self.region_source, dict(freq=[], flux=[]))
        self.region_axis.axis_label = "Region spectrum (draw a region)"
        self._legend(False)

    def _legend(self, region: bool) -> None:
        """Name the lines while a region's is drawn: the region's, and the pixel's once it has one."""
        self.legend_items[0].visible = region and len(self.source.data["flux"]) > 0
        self.legend_items[1].visible = region

    @staticmethod
    def _bound(bounds: ColumnDataSource, axis: LinearAxis, values: np.ndarray) -> None:
        """Range a y axis on ``values``: its stand-in takes their finite extent (0–1 when there is none), and
        an axis with no line is hidden (its ticks would be the stand-in's 0–1)."""
        finite = values[np.isfinite(values)]
        y = [float(finite.min()), float(finite.max())] if finite.size else [0.0, 1.0]
        replace_data(bounds, dict(x=[0.0, 0.0], y=y))
        axis.visible = bool(finite.size)

    def set_axis(self, rest_mhz: float, convention: str, frequencies_mhz: np.ndarray) -> None:
        """Top axis: velocity of each frequency tick (exact for the cube's convention)."""
        formula = {"radio": "c * (1 - tick / nu0)", "optical": "c * (nu0 / tick - 1)",
                   "relativistic": "c * (nu0*nu0 - tick*tick) / (nu0*nu0 + tick*tick)"}[convention]
        self.fig.extra_x_ranges["velocity"] = self.fig.x_range
        self.velocity_axis.formatter = CustomJSTickFormatter(
            args=dict(nu0=rest_mhz, c=C_KMS),
            code=f"const v = {formula}; return Math.round(v).toLocaleString('en-US');")
        self.velocity_axis.axis_label = f"Velocity, {convention} convention (km/s)"
        lo, hi = float(np.min(frequencies_mhz)), float(np.max(frequencies_mhz))
        pad = (hi - lo) * 0.01 or 1.0
        self.fig.x_range.update(start=lo - pad, end=hi + pad)

    def show(self, frequencies_mhz: np.ndarray, flux: np.ndarray, title: str, y_label: str) -> None:
        flux = np.asarray(flux, dtype=float)
        self._bound(self._pixel_bounds, self.fig.yaxis[0], flux)
        self.source.data = dict(freq=np.asarray(frequencies_mhz, dtype=float), flux=flux)
        self._legend(self.legend_items[1].visible)
        self.fig.title.text = title
        self.fig.yaxis[0].axis_label = y_label

    def mark_width(self, lo_mhz: float | None, hi_mhz: float | None) -> None:
        """Mark a line's W20 edges (None hides them)."""
        for span, where in zip(self.w20, (lo_mhz, hi_mhz)):
            span.update(location=where or 0.0, visible=where is not None)

    def mark(self, frequency_mhz: float) -> None:
        self.cursor.update(location=frequency_mhz, visible=True)


def _stand_in_range(fig, range_name: str = "default") -> tuple[DataRange1d, ColumnDataSource]:
    """A y range following an unseen two-point stand-in on ``fig`` (0–1 until bounded), and the stand-in's data."""
    stand_in = fig.scatter([0.0, 0.0], [0.0, 1.0], visible=False, y_range_name=range_name)
    return DataRange1d(renderers=[stand_in]), stand_in.data_source
