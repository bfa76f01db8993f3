"""A Bokeh figure for a survey map of up to millions of points: a datashaded image of the visible window
(re-rendered on every pan or zoom), invisible hover targets for a few thousand visible points, and the
lasso / box selection geometry handed to the page in data coordinates."""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh.events import RangesUpdate, SelectionGeometry
from bokeh.models import BoxSelectTool, ColumnDataSource, HoverTool, LassoSelectTool, Range1d
from bokeh.plotting import figure

__all__ = ["EmbeddingView"]

HOVER_POINTS = 3000


class EmbeddingView:
    """``render(x_range, y_range, width, height) -> uint32 RGBA`` draws; ``on_select(geometry)`` selects.

    ``geometry`` is Bokeh's: ``{'type': 'rect', 'x0', 'x1', 'y0', 'y1'}`` or ``{'type': 'poly', 'x', 'y'}``.
    """

    def __init__(self, *, render: Callable[..., np.ndarray], on_select: Callable[[dict], None],
                 width: int = 620, height: int = 540) -> None:
        self._render = render
        self.width, self.height = width, height
        # explicit ranges: the map's window is set here (and by pan/zoom), never auto-fitted by the browser
        fig = figure(frame_width=width, frame_height=height, name="embedding-figure", toolbar_location="above",
                     tools="pan,wheel_zoom,reset,save", active_scroll="wheel_zoom", x_range=Range1d(0, 1),
                     y_range=Range1d(0, 1), background_fill_color="white", title="")
        self.image = ColumnDataSource(dict(image=[np.zeros((2, 2), np.uint32)], x=[0.0], y=[0.0], dw=[1.0], dh=[1.0]),
                                      name="embedding-image-source")
        self._drawn = fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image)
        self.points = ColumnDataSource(dict(x=[], y=[], id=[], label=[], predicted=[], p=[], anomaly=[]),
                                       name="embedding-hover-source")
        targets = fig.scatter("x", "y", source=self.points, size=7, alpha=0.0, selection_alpha=0.0,
                              nonselection_alpha=0.0, hover_alpha=0.9, hover_color="#000000")
        fig.add_tools(HoverTool(renderers=[targets], tooltips=[("id", "@id"), ("class", "@label"),
                                                               ("predicted", "@predicted (p = @p{0.00})"),
                                                               ("anomaly", "@anomaly{0.0}")]))
        lasso = LassoSelectTool(renderers=[targets], continuous=False)
        box = BoxSelectTool(renderers=[targets], continuous=False)
        fig.add_tools(lasso, box)
        fig.toolbar.active_drag = lasso
        fig.grid.grid_line_alpha = 0.3
        fig.on_event(RangesUpdate, lambda e: self.redraw())
        fig.on_event(SelectionGeometry, lambda e: on_select(dict(e.geometry)) if e.final else None)
        self.fig = fig
        self._coords: np.ndarray | None = None
        self._hover: dict | None = None
        self._label = ""

    def title(self, label: str, waiting: str | None = None) -> None:
        """Name the map on screen by ``label``; with ``waiting`` (the chosen map is still being computed) grey it and
        say that it is the previous map, so it is never read as the one whose button is pressed."""
        self._label = label
        self.wait(waiting)

    def wait(self, waiting: str | None) -> None:
        """Grey the map and put ``waiting`` ("computing t-SNE… 40%") in its title; None: the map is the chosen one."""
        self.fig.title.text = self._label if waiting is None else f"Still showing {self._label} · {waiting}"
        self._drawn.glyph.global_alpha = 1.0 if waiting is None else 0.35

    def show(self, coords: np.ndarray, axes: tuple[str, str], hover: dict[str, np.ndarray]) -> None:
        """A new map: fit the ranges to the points (1% margin) and draw."""
        self._coords, self._hover = coords, hover
        lo, hi = np.nanpercentile(coords, 0.1, axis=0), np.nanpercentile(coords, 99.9, axis=0)
        pad = np.where(hi - lo > 0, 0.05 * (hi - lo), 1.0)      # one point (or one value) still gets a window
        for rng, a, b in ((self.fig.x_range, lo[0] - pad[0], hi[0] + pad[0]), (self.fig.y_range, lo[1] - pad[1], hi[1] + pad[1])):
            rng.update(start=float(a), end=float(b), reset_start=float(a), reset_end=float(b))
        self.fig.xaxis.axis_label, self.fig.yaxis.axis_label = axes
        self.redraw()

    def window(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The visible (x, y) data ranges."""
        xr, yr = self.fig.x_range, self.fig.y_range
        return (float(xr.start), float(xr.end)), (float(yr.start), float(yr.end))

    def redraw(self) -> None:
        """Re-render the visible window and refresh the hover targets in it."""
        if self._coords is None:
            return
        (x0, x1), (y0, y1) = self.window()
        rgba = self._render((x0, x1), (y0, y1), self.width, self.height)
        self.image.data = dict(image=[rgba], x=[x0], y=[y0], dw=[x1 - x0], dh=[y1 - y0])
        c = self._coords
        inside = np.flatnonzero((c[:, 0] >= x0) & (c[:, 0] <= x1) & (c[:, 1] >= y0) & (c[:, 1] <= y1))
        if len(inside) > HOVER_POINTS:
            inside = np.random.default_rng(0).choice(inside, HOVER_POINTS, replace=False)
        self.points.data = dict(x=c[inside, 0], y=c[inside, 1], **{k: np.asarray(v)[inside] for k, v in self._hover.items()})
