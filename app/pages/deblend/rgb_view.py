"""A Bokeh figure for multi-band images: an RGBA image layer, a segmentation overlay layer, sky axes,
a marker on the selected source and a tap callback in pixel coordinates."""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, FixedTicker, Range1d
from bokeh.plotting import figure

from astroml_core.display import Tick

__all__ = ["RGBView"]


class RGBView:
    """The figure and its sources; ``on_tap(x, y)`` gets pixel coordinates."""

    def __init__(self, *, on_tap: Callable[[float, float], None], size: int = 560) -> None:
        self.size = size
        # Range1d, not the default DataRange1d: a data range ignores the start/end set when another image opens
        fig = figure(frame_width=size, frame_height=size, tools="pan,wheel_zoom,box_zoom,reset,save",
                     active_scroll="wheel_zoom", x_range=Range1d(-0.5, 1.5), y_range=Range1d(-0.5, 1.5), name="deblend-figure",
                     background_fill_color="#111111", border_fill_color="white", toolbar_location="below")
        self.image = ColumnDataSource(dict(image=[np.zeros((2, 2), np.uint32)], x=[-0.5], y=[-0.5], dw=[2], dh=[2]),
                                      name="deblend-image-source")
        self.masks = ColumnDataSource(dict(image=[np.zeros((2, 2), np.uint32)], x=[-0.5], y=[-0.5], dw=[2], dh=[2]),
                                      name="deblend-mask-source")
        self.marker = ColumnDataSource(dict(x=[], y=[]), name="deblend-marker-source")
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image)
        self.mask_glyph = fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.masks)
        fig.scatter("x", "y", source=self.marker, marker="circle", size=30, fill_alpha=0, line_color="white",
                    line_width=2, line_dash="dashed")
        fig.grid.visible = False
        fig.xaxis.ticker = FixedTicker(ticks=[])
        fig.yaxis.ticker = FixedTicker(ticks=[])
        fig.on_event(Tap, lambda e: on_tap(e.x, e.y))
        self.fig = fig

    def set_image(self, rgba: np.ndarray) -> None:
        """Show an (ny, nx) uint32 RGBA image over the whole frame."""
        ny, nx = rgba.shape
        self.image.data = dict(image=[rgba], x=[-0.5], y=[-0.5], dw=[nx], dh=[ny])
        scale = self.size / max(nx, ny)
        self.fig.frame_width, self.fig.frame_height = int(round(nx * scale)), int(round(ny * scale))
        for rng, n in ((self.fig.x_range, nx), (self.fig.y_range, ny)):
            rng.update(start=-0.5, end=n - 0.5, bounds=(-0.5 - n, n - 0.5 + n))

    def set_masks(self, rgba: np.ndarray | None) -> None:
        """The segmentation overlay (uint32 RGBA), or None to hide it."""
        if rgba is None:
            rgba = np.zeros((2, 2), np.uint32)
        ny, nx = rgba.shape
        self.masks.data = dict(image=[rgba], x=[-0.5], y=[-0.5], dw=[nx], dh=[ny])

    def set_marker(self, x: float | None, y: float | None) -> None:
        self.marker.data = dict(x=[] if x is None else [x], y=[] if y is None else [y])

    def set_axis_ticks(self, x_ticks: list[Tick], y_ticks: list[Tick], x_label: str, y_label: str) -> None:
        for axis, ticks, label in ((self.fig.xaxis[0], x_ticks, x_label), (self.fig.yaxis[0], y_ticks, y_label)):
            axis.ticker.ticks = [t.position for t in ticks]
            axis.major_label_overrides = {t.position: t.label for t in ticks}
            axis.axis_label = label
