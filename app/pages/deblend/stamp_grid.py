"""Per-band stamps of one source: its deblended image (top row) and the residual data − all models
(bottom row), each row on one symmetric colour scale so bands compare by eye."""
from __future__ import annotations

import numpy as np
from bokeh import palettes
from bokeh.layouts import column, row as bk_row
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

__all__ = ["StampGrid"]


class StampGrid:
    """A 2 × n_bands grid of small pixel-axis images; ``show`` fills it."""

    def __init__(self, bands=("g", "r", "i", "z"), size: int = 96) -> None:
        self.mappers = [LinearColorMapper(palette=palettes.Greys256[::-1]),
                        LinearColorMapper(palette=palettes.RdBu11)]
        self.sources: list[list[ColumnDataSource]] = []
        self.figs: list[list] = []
        for row, label in enumerate(("deblended", "residual")):
            srcs, figs = [], []
            for b in bands:
                src = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]), name=f"stamp-{label}-{b}")
                fig = figure(frame_width=size, frame_height=size, tools="", toolbar_location=None,
                             title=f"{b} {label}", x_axis_label="x (px)" if row else None)
                fig.image("image", x="x", y="y", dw="dw", dh="dh", source=src, color_mapper=self.mappers[row])
                fig.title.text_font_size = "11px"
                fig.axis.major_label_text_font_size = "9px"
                fig.xaxis.ticker.desired_num_ticks = fig.yaxis.ticker.desired_num_ticks = 3
                fig.grid.visible = False
                srcs.append(src)
                figs.append(fig)
            self.sources.append(srcs)
            self.figs.append(figs)
        self.layout = column(*[bk_row(*figs) for figs in self.figs])   # gridplot collapses inside the page design

    def set_bands(self, bands) -> None:
        """Title the columns with the image's band names and hide the columns it has no band for (a one-band
        HST image shows one column, not g/r/i/z with three empty)."""
        for row, label in enumerate(("deblended", "residual")):
            for k, (src, fig) in enumerate(zip(self.sources[row], self.figs[row])):
                fig.visible = k < len(bands)
                fig.title.text = f"{bands[k]} {label}" if k < len(bands) else ""
        self.clear()

    def clear(self) -> None:
        """Empty every stamp (no source selected)."""
        for srcs in self.sources:
            for src in srcs:
                src.data = dict(image=[], x=[], y=[], dw=[], dh=[])

    def show(self, stamps: np.ndarray, residuals: np.ndarray, x0: int, y0: int) -> None:
        """Draw (n_bands, S, S) deblended stamps and residuals whose pixel [0, 0] is image pixel (x0, y0)."""
        for row, (block, mapper) in enumerate(zip((stamps, residuals), self.mappers)):
            top = float(np.nanpercentile(np.abs(block), 99.5)) or 1.0
            mapper.update(low=-top if row else -0.05 * top, high=top)
            for b, src, fig in zip(range(len(block)), self.sources[row], self.figs[row]):   # the image's bands only
                ny, nx = block[b].shape
                src.data = dict(image=[block[b].astype(np.float32)], x=[x0 - 0.5], y=[y0 - 0.5], dw=[nx], dh=[ny])
                fig.x_range.update(start=x0 - 0.5, end=x0 + nx - 0.5)
                fig.y_range.update(start=y0 - 0.5, end=y0 + ny - 0.5)
