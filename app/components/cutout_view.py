"""A small Bokeh image of a source cutout (e.g. its moment-0 map) with its catalogue ellipse."""
from __future__ import annotations

import numpy as np
from bokeh import palettes
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.plotting import figure

__all__ = ["CutoutView"]


class CutoutView:
    """Pixel-axis image (labels in cube pixels) with the source outlined; empty until ``show``."""

    def __init__(self, size: int = 230, name: str = "cutout", palette=palettes.Viridis256,
                 title: str = "Click a row for its moment-0 cutout") -> None:
        self.mapper = LinearColorMapper(palette=palette, nan_color=(0, 0, 0, 0))
        self.image = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]), name=f"{name}-image-source")
        self.ellipse = ColumnDataSource(dict(x=[], y=[], w=[], h=[], angle=[]))
        fig = figure(name=f"{name}-figure", frame_width=size, frame_height=size, tools="pan,wheel_zoom,reset,save",
                     toolbar_location="below", x_axis_label="x (pixel)", y_axis_label="y (pixel)",
                     title=title, x_range=Range1d(0, 1), y_range=Range1d(0, 1))
        fig.image("image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=self.mapper)
        fig.ellipse("x", "y", "w", "h", angle="angle", source=self.ellipse, fill_alpha=0, line_color="#ff4d4d",
                    line_width=2)
        fig.title.text_font_size = "11px"
        fig.grid.visible = False
        self.fig = fig
        self.symmetric = palette is not palettes.Viridis256

    def show(self, image: np.ndarray, x0: int, y0: int, ellipse: dict, title: str) -> None:
        """Draw ``image`` whose pixel [0, 0] is cube pixel (x0, y0), with the given ellipse glyph data."""
        finite = image[np.isfinite(image)]
        lo, hi = (np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0))
        if self.symmetric:                      # signed maps (attributions): zero in the middle of the palette
            lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
        if hi <= lo:                            # a flat image (the empty placeholder) sits mid-palette: white on a
            lo, hi = lo - 1.0, hi + 1.0         # signed map, not a solid block of its lowest colour
        self.mapper.update(low=float(lo), high=float(hi))
        ny, nx = image.shape
        self.image.data = dict(image=[image.astype(np.float32)], x=[x0 - 0.5], y=[y0 - 0.5], dw=[nx], dh=[ny])
        self.ellipse.data = ellipse
        self.fig.x_range.update(start=x0 - 0.5, end=x0 + nx - 0.5)
        self.fig.y_range.update(start=y0 - 0.5, end=y0 + ny - 0.5)
        self.fig.title.text = title
