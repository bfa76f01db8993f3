"""A Bokeh figure of selected spectra stacked with offsets, the selection's median below them, and the main
lines marked at the selection's median redshift."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LabelSet, Segment
from bokeh.plotting import figure

from astroml_core.display.scatter import CATEGORY_COLOURS
from astroml_core.tasks.spectra.survey import DISPLAY_BIN as BIN

__all__ = ["SpectraStack", "LINES"]

LINES = {"Lyα": 1215.7, "C IV": 1549.1, "C III]": 1908.7, "Mg II": 2798.8, "[O II]": 3728.0, "K": 3933.7,
         "H": 3968.5, "Hδ": 4101.7, "G": 4305.0, "Hγ": 4340.5, "Hβ": 4861.3, "[O III]": 5006.8, "Mg b": 5175.0,
         "Na D": 5892.9, "Hα": 6562.8, "[N II]": 6583.5, "[S II]": 6724.0, "Ca T": 8600.0}
STEP = 1.6


class SpectraStack:
    """Up to ``max_rows`` spectra, offset by 1.6 each, with the median at the bottom; names for tests."""

    def __init__(self, *, width: int = 620, height: int = 470, max_rows: int = 8) -> None:
        self.max_rows = max_rows
        fig = figure(frame_width=width, frame_height=height, name="spectra-stack", toolbar_location="above",
                     tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
                     x_axis_label="Observed wavelength (Å, vacuum)",
                     y_axis_label="Flux / median + offset", title="Select spectra in the map")
        self.source = ColumnDataSource(dict(xs=[], ys=[], color=[], width=[]), name="spectra-stack-source")
        fig.multi_line("xs", "ys", source=self.source, line_color="color", line_width="width")
        self.labels = ColumnDataSource(dict(x=[], y=[], text=[]), name="spectra-stack-labels")
        fig.add_layout(LabelSet(x="x", y="y", text="text", source=self.labels, text_font_size="10px",
                                background_fill_color="white", background_fill_alpha=0.7))
        self.lines = ColumnDataSource(dict(x=[], y0=[], y1=[], text=[]), name="spectra-stack-lines")
        fig.add_glyph(self.lines, Segment(x0="x", x1="x", y0="y0", y1="y1", line_color="#888888",
                                          line_dash="dotted", line_width=1))
        fig.add_layout(LabelSet(x="x", y="y1", text="text", source=self.lines, text_font_size="9px", angle=1.5708,
                                text_color="#555555", x_offset=-2, text_baseline="bottom"))
        fig.yaxis.major_label_text_font_size = "0px"
        self.fig = fig

    def show(self, wavelength: np.ndarray, rows: np.ndarray, names: list[str], classes: list[int],
             median: np.ndarray | None, z: float | None, title: str, max_rows: int | None = None) -> None:
        """Draw display rows (from ``display_rows``), the first on top, the median below them; lines at redshift ``z``."""
        lam = wavelength[: rows.shape[1] * BIN].reshape(-1, BIN).mean(axis=1)
        xs, ys, colours, widths, lx, ly, text = [], [], [], [], [], [], []
        base = 0.0
        if median is not None:
            xs.append(lam), ys.append(np.clip(median, -1, 4)), colours.append("#000000"), widths.append(1.8)
            lx.append(float(lam[0])), ly.append(base + 1.1), text.append("median of the selection")
            base += STEP
        drawn = list(zip(rows[: max_rows or self.max_rows], names, classes))
        for row, name, cls in drawn[::-1]:                   # the first row ends up on top
            xs.append(lam), ys.append(np.clip(row, -1, 4) + base)
            colours.append(CATEGORY_COLOURS[cls % len(CATEGORY_COLOURS)]), widths.append(1.0)
            lx.append(float(lam[0])), ly.append(base + 1.1), text.append(name)
            base += STEP
        self.source.data = dict(xs=[np.nan_to_num(x) for x in xs], ys=[np.where(np.isfinite(y), y, np.nan) for y in ys],
                                color=colours, width=widths)
        self.labels.data = dict(x=lx, y=ly, text=text)
        top = base + 0.6
        if z is not None and len(xs):
            obs = {k: v * (1 + z) for k, v in LINES.items() if lam[0] < v * (1 + z) < lam[-1]}
            self.lines.data = dict(x=list(obs.values()), y0=[-0.5] * len(obs), y1=[top] * len(obs), text=list(obs))
        else:
            self.lines.data = dict(x=[], y0=[], y1=[], text=[])
        if len(xs):
            self.fig.x_range.update(start=float(lam[0]), end=float(lam[-1]))
            self.fig.y_range.update(start=-0.8, end=top + 0.9)
        self.fig.title.text = title


class SaliencyView:
    """Per-pixel attribution of the top spectrum's class, under the stack and sharing its wavelength axis."""

    def __init__(self, stack: SpectraStack, *, width: int = 620, height: int = 130) -> None:
        self.source = ColumnDataSource(dict(x=[], top=[], color=[]), name="saliency-source")
        fig = figure(frame_width=width, frame_height=height, name="saliency-figure", x_range=stack.fig.x_range,
                     toolbar_location=None, tools="", x_axis_label="Observed wavelength (Å, vacuum)",
                     y_axis_label="Δp per bin", title="What the model sees")
        fig.vbar(x="x", top="top", width=4 * 2.0, color="color", source=self.source)
        fig.title.text_font_size = "11px"
        self.fig = fig

    def show(self, wavelength: np.ndarray, attribution: np.ndarray | None, title: str) -> None:
        """Attribution per pixel (summed into display bins): green raised the class's probability, red lowered it."""
        if attribution is None:
            self.source.data = dict(x=[], top=[], color=[])
        else:
            n = len(attribution) // BIN * BIN
            lam = wavelength[:n].reshape(-1, BIN).mean(axis=1)
            top = attribution[:n].reshape(-1, BIN).sum(axis=1)
            self.source.data = dict(x=lam, top=top, color=np.where(top >= 0, "#2ca02c", "#d62728"))
        self.fig.title.text = title
