"""A Bokeh image plot of one cube plane: sky-coordinate ticks, colour bar in data units, pixel marker.

The plot is built once per session and updated in place (new image data, ticks, colour-bar labels),
so changing channel sends one screen-sized array, not a whole new figure.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh import palettes
from bokeh.events import DoubleTap, MouseMove, RangesUpdate, Tap
from bokeh.models import (ColorBar, ColumnDataSource, FixedTicker, LinearColorMapper, Range1d,
                          Title)
from bokeh.plotting import figure

from astroml_core.display import PlaneView, Tick

from ...components.sources import replace_data

__all__ = ["ImageView", "COLORMAPS"]

COLORBAR_ROOM_PX = 110   # bar, standoff and labels such as '−0.00123' or '1.2e-05'

COLORMAPS = {
    "viridis": palettes.Viridis256, "inferno": palettes.Inferno256, "magma": palettes.Magma256,
    "cividis": palettes.Cividis256, "gray": palettes.Greys256, "gray (inverted)": palettes.Greys256[::-1],
    "turbo": palettes.Turbo256,
    "RdBu (velocity)": tuple(palettes.interp_palette(palettes.RdBu11, 256)),   # blue low, red high
}


class ImageView:
    """The figure, its data source and colour bar, plus callbacks for tap, pointer move and zoom."""

    def __init__(self, *, on_tap: Callable[[float, float], None], on_move: Callable[[float, float], None],
                 on_ranges: Callable[[], None], size: int = 560) -> None:
        self.size = size
        self.mapper = LinearColorMapper(palette=COLORMAPS["viridis"], low=0, high=1, nan_color=(0, 0, 0, 0))
        self.source = ColumnDataSource(dict(image=[np.full((2, 2), np.nan, np.float32)], x=[-0.5], y=[-0.5],
                                            dw=[2.0], dh=[2.0]), name="cube-image-source")
        self.marker = ColumnDataSource(dict(x=[], y=[]), name="cube-marker-source")
        fig = figure(name="cube-figure", tools="pan,wheel_zoom,box_zoom,reset,crosshair,save",
                     active_scroll="wheel_zoom", x_range=Range1d(-0.5, 1.5), y_range=Range1d(-0.5, 1.5),
                     frame_width=size, frame_height=size, toolbar_location="above",
                     min_border_left=90,    # zoomed in, Dec labels may vanish: keep the width (colour-bar labels fit)
                     # room for the colour bar's widest labels: the figure keeps its size when they change with
                     # the channel, so a step repaints the plot without laying it out again (each renderer
                     # that moves is a style recalculation in the browser)
                     min_border_right=COLORBAR_ROOM_PX,
                     background_fill_color="#20232a", border_fill_color="white")
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source, color_mapper=self.mapper)
        fig.scatter("x", "y", source=self.marker, marker="circle", size=26, fill_alpha=0,
                    line_color="#ff4d4d", line_width=1.5)  # a ring: the selected pixel stays visible
        self.beam = ColumnDataSource(dict(x=[], y=[], w=[], h=[], angle=[]), name="cube-beam-source")
        fig.ellipse("x", "y", "w", "h", angle="angle", source=self.beam, fill_color="white", fill_alpha=0.35,
                    line_color="white", line_width=1.5)
        self.sources = ColumnDataSource(dict(x=[], y=[], w=[], h=[], angle=[], score=[], id=[], color=[]),
                                        name="cube-sources-source")
        self.truth = ColumnDataSource(dict(x=[], y=[], w=[], h=[], angle=[], color=[]), name="cube-truth-source")
        self.other = ColumnDataSource(dict(x=[], y=[], w=[], h=[], angle=[], color=[]), name="cube-other-source")
        fig.ellipse("x", "y", "w", "h", angle="angle", source=self.truth, fill_alpha=0, line_width=1.5,
                    line_dash="dashed", line_color="color")
        fig.ellipse("x", "y", "w", "h", angle="angle", source=self.other, fill_alpha=0, line_width=2.0,
                    line_dash="dotted", line_color="color")
        fig.ellipse("x", "y", "w", "h", angle="angle", source=self.sources, fill_alpha=0, line_width=2.2,
                    line_color="color", name="detections")
        fig.text("x", "y", text="id", source=self.sources, text_color="white", text_font_size="10px",
                 x_offset=6, y_offset=-6)
        fig.grid.visible = False
        fig.xaxis.ticker = FixedTicker(ticks=[])
        fig.yaxis.ticker = FixedTicker(ticks=[])
        self.colorbar = ColorBar(color_mapper=self.mapper, ticker=FixedTicker(ticks=[]), name="cube-colorbar",
                                 title="", width=16, label_standoff=6, title_standoff=8)
        fig.add_layout(self.colorbar, "right")
        self.title = Title(text="")
        fig.title = self.title
        fig.on_event(Tap, lambda e: self._tapped(e.x, e.y))
        fig.on_event(DoubleTap, lambda e: self._tapped(e.x, e.y, double=True))
        self._on_tap, self._last_tap = on_tap, (None, None)
        fig.on_event(MouseMove, lambda e: on_move(e.x, e.y))
        fig.on_event(RangesUpdate, lambda e: on_ranges())
        self.fig = fig

    def _tapped(self, x: float | None, y: float | None, double: bool = False) -> None:
        """A tap; Bokeh calls a second tap within 0.3 s a double tap, wherever it falls: on another pixel it is
        a tap of its own (a quick second click), on the same one nothing new."""
        last, self._last_tap = self._last_tap, (x, y)
        if double and None not in (x, y, *last) and abs(x - last[0]) < 1 and abs(y - last[1]) < 1:
            return
        self._on_tap(x, y)

    # --- geometry ------------------------------------------------------------------------------
    def set_extent(self, ny: int, nx: int) -> None:
        """Fit the frame to an (ny, nx) image and show all of it."""
        scale = self.size / max(nx, ny)
        self.fig.frame_width = int(round(nx * scale))
        self.fig.frame_height = int(round(ny * scale))
        for rng, n in ((self.fig.x_range, nx), (self.fig.y_range, ny)):
            rng.update(start=-0.5, end=n - 0.5, bounds=(-0.5 - n, n - 0.5 + n))

    def visible(self) -> tuple[float, float, float, float]:
        """Visible pixel region (x0, x1, y0, y1)."""
        xr, yr = self.fig.x_range, self.fig.y_range
        return xr.start, xr.end, yr.start, yr.end

    # --- content --------------------------------------------------------------------------------
    def show(self, view: PlaneView) -> None:
        """Draw a rasterised, stretched plane (data in [0, 1]) where it belongs in pixel space."""
        r = view.raster
        self.source.data = dict(image=[view.display.values], x=[r.x0 - 0.5], y=[r.y0 - 0.5],
                                dw=[float(r.x1 - r.x0)], dh=[float(r.y1 - r.y0)])

    def set_colorbar(self, ticks: dict[float, str], title: str) -> None:
        self.colorbar.ticker.ticks = list(ticks)
        self.colorbar.major_label_overrides = ticks
        self.colorbar.title = title

    def set_axis_ticks(self, x_ticks: list[Tick], y_ticks: list[Tick], x_label: str, y_label: str) -> None:
        for axis, ticks, label in ((self.fig.xaxis[0], x_ticks, x_label), (self.fig.yaxis[0], y_ticks, y_label)):
            axis.ticker.ticks = [t.position for t in ticks]
            axis.major_label_overrides = {t.position: t.label for t in ticks}
            axis.axis_label = label

    def set_beam(self, major_px: float | None, minor_px: float | None, pa_deg: float | None) -> None:
        """Draw the restoring beam in the lower-left corner of the visible region (None hides it).

        Pixel x grows to the West, so a PA East of North is a counter-clockwise angle from +y.
        """
        if major_px is None:
            replace_data(self.beam, dict(x=[], y=[], w=[], h=[], angle=[]))
            return
        x0, _, y0, _ = self.visible()
        pad = max(major_px, 3) * 0.5 + 3
        replace_data(self.beam, dict(x=[x0 + pad], y=[y0 + pad], w=[minor_px], h=[major_px],
                                     angle=[float(np.radians(pa_deg))]))

    def set_sources(self, rows: dict) -> None:
        """Detected sources to outline: x, y (px), w, h (px), angle (rad), score, id, color."""
        replace_data(self.sources, rows)

    def set_other(self, rows: dict) -> None:
        """The other finder's sources (compare mode), dotted: x, y, w, h, angle, color."""
        replace_data(self.other, rows)

    def set_truth(self, rows: dict) -> None:
        """Truth sources (demo data) to outline dashed: x, y, w, h, angle, color."""
        replace_data(self.truth, rows)

    def centre_on(self, x: float, y: float, half: float = 40.0) -> None:
        """Zoom to a window of ±``half`` pixels around (x, y)."""
        self.fig.x_range.update(start=x - half, end=x + half)
        self.fig.y_range.update(start=y - half, end=y + half)

    def set_cmap(self, name: str) -> None:
        self.mapper.palette = COLORMAPS[name]

    def set_marker(self, x: float | None, y: float | None) -> None:
        replace_data(self.marker, dict(x=[] if x is None else [x], y=[] if y is None else [y]))
