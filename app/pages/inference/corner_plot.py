"""A corner plot in Bokeh: 1-D posteriors on the diagonal (68 % interval dashed), 2-D histograms below
it, the truth as red lines and a star, every axis spanning the prior and labelled with its unit.

Upper-triangle cells are simply absent (rows are left-aligned). The figures are built once; a new posterior only replaces their data, so switching lightcones costs a
data update, not 27 new plots. Truth markers are named ``truth-x-<param>`` / ``truth-y-<param>`` for tests.
"""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row as bk_row
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d, Span
from bokeh.palettes import Blues256
from bokeh.plotting import figure

__all__ = ["CornerPlot", "axis_label"]

BINS = 40


def axis_label(param) -> str:
    """'label [unit]' (or the bare label for dimensionless parameters)."""
    return f"{param.label} [{param.unit}]" if param.unit else param.label


class CornerPlot:
    """Corner plot of posterior samples over ``params`` (objects with name, label, unit, low, high)."""

    def __init__(self, params, *, size: int = 128, name: str = "corner") -> None:
        self.params = list(params)
        n = len(self.params)
        ranges = [Range1d(p.low, p.high) for p in self.params]         # shared down each column
        rows_range = [Range1d(p.low, p.high) for p in self.params]     # and along each row (never x with y)
        self.images: dict[tuple[int, int], ColumnDataSource] = {}
        self.hists: list[ColumnDataSource] = []
        self.truth: list[dict[str, Span]] = [{} for _ in range(n)]
        self.truth_points: dict[tuple[int, int], ColumnDataSource] = {}
        self.intervals: list[tuple[Span, Span]] = []
        rows = []
        for i in range(n):
            row = []
            for j in range(n):
                if j > i:
                    continue
                fig = figure(frame_width=size, frame_height=size, x_range=ranges[j],
                             y_range=rows_range[i] if i != j else Range1d(0, 1.08), tools="", toolbar_location=None,
                             name=f"{name}-{i}-{j}", min_border=4,
                             min_border_left=62 if j == 0 else 4, min_border_bottom=48 if i == n - 1 else 4)
                fig.xaxis.axis_label = axis_label(self.params[j]) if i == n - 1 else None
                fig.yaxis.axis_label = axis_label(self.params[i]) if j == 0 and i > 0 else None
                fig.xaxis.visible = i == n - 1
                fig.yaxis.visible = j == 0 and i > 0
                for axis in (fig.xaxis, fig.yaxis):
                    axis.axis_label_text_font_size = "10.5px"
                    axis.major_label_text_font_size = "9px"
                    axis.ticker.desired_num_ticks = 3
                fig.grid.visible = False
                if i == j:
                    self._diagonal(fig, i)
                else:
                    self._off_diagonal(fig, i, j)
                row.append(fig)
            rows.append(row)
        # plain rows and columns: every cell has fixed borders, so they align without a GridPlot (whose
        # CSS grid collapses under the app's Bootstrap design)
        self.layout = column(*[bk_row(*cells) for cells in rows])

    def _diagonal(self, fig, i: int) -> None:
        src = ColumnDataSource(dict(left=[], right=[], top=[]), name=f"posterior-1d-{self.params[i].name}")
        fig.quad(left="left", right="right", bottom=0, top="top", source=src, fill_color="#4c72b0",
                 line_color="#4c72b0", fill_alpha=0.55)
        self.hists.append(src)
        lo, hi = (Span(location=0, dimension="height", line_dash="dashed", line_color="#333", visible=False)
                  for _ in range(2))
        fig.add_layout(lo)
        fig.add_layout(hi)
        self.intervals.append((lo, hi))
        self._truth_span(fig, i, "height", f"truth-x-{self.params[i].name}")

    def _off_diagonal(self, fig, i: int, j: int) -> None:
        pi, pj = self.params[i], self.params[j]
        src = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]), name=f"posterior-2d-{pj.name}-{pi.name}")
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=src,
                  color_mapper=LinearColorMapper(palette=Blues256[::-1], nan_color=(0, 0, 0, 0)))
        self.images[(i, j)] = src
        self._truth_span(fig, j, "height", None)
        self._truth_span(fig, i, "width", None)
        pts = ColumnDataSource(dict(x=[], y=[]))
        fig.scatter("x", "y", source=pts, marker="star", size=11, color="#d62728")
        self.truth_points[(i, j)] = pts

    def _truth_span(self, fig, k: int, dimension: str, name: str | None) -> None:
        span = Span(location=0, dimension=dimension, line_color="#d62728", line_width=1.5, visible=False, name=name)
        fig.add_layout(span)
        self.truth[k].setdefault(dimension, [])
        self.truth[k][dimension].append(span)

    def show(self, samples: np.ndarray, truth: dict | None = None) -> None:
        """Draw posterior samples (n, n_params, in the parameters' order) and the truth when known."""
        for i, p in enumerate(self.params):
            counts, edges = np.histogram(samples[:, i], bins=BINS, range=(p.low, p.high))
            self.hists[i].data = dict(left=edges[:-1], right=edges[1:], top=counts / counts.max())
            lo, hi = np.quantile(samples[:, i], [0.16, 0.84])
            for span, where in zip(self.intervals[i], (lo, hi)):
                span.update(location=float(where), visible=True)
        for (i, j), src in self.images.items():
            pi, pj = self.params[i], self.params[j]
            h, _, _ = np.histogram2d(samples[:, i], samples[:, j], bins=BINS,
                                     range=[(pi.low, pi.high), (pj.low, pj.high)])
            src.data = dict(image=[np.where(h > 0, h, np.nan)], x=[pj.low], y=[pi.low],
                            dw=[pj.high - pj.low], dh=[pi.high - pi.low])
        for k, p in enumerate(self.params):
            value = None if not truth else truth.get(p.name)
            for spans in self.truth[k].values():
                for span in spans:
                    span.update(location=float(value) if value is not None else 0.0, visible=value is not None)
        for (i, j), src in self.truth_points.items():
            have = truth and self.params[i].name in truth and self.params[j].name in truth
            src.data = dict(x=[truth[self.params[j].name]], y=[truth[self.params[i].name]]) if have else dict(x=[], y=[])
