"""A lightcone seen from the side: δT_b on one transverse row against line-of-sight distance (redshift
on the top axis), and under it the sky-averaged δT_b and neutral fraction at each redshift."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column
from bokeh.models import ColorBar, ColumnDataSource, FixedTicker, LinearAxis, LinearColorMapper, Range1d
from bokeh.plotting import figure

__all__ = ["LightconeView"]


class LightconeView:
    """Side view + global signal of a lightcone; ``show`` replaces the data in place."""

    def __init__(self, width: int = 860) -> None:
        self.image = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]), name="lightcone-slice-source")
        self.mapper = LinearColorMapper(palette="RdBu11", low=-50, high=50)
        side = figure(name="lightcone-slice", frame_width=width, frame_height=150, tools="xpan,xwheel_zoom,reset,save",
                      active_scroll="xwheel_zoom", x_axis_label="Comoving distance from z = 6 [Mpc]",
                      y_axis_label="x [Mpc]", toolbar_location="right", title="δT_b along the line of sight")
        side.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=self.mapper)
        side.add_layout(ColorBar(color_mapper=self.mapper, title="δT_b [mK]", width=10), "right")
        self.z_axis = LinearAxis(axis_label="Redshift z", ticker=FixedTicker(ticks=[]))
        side.add_layout(self.z_axis, "above")
        self.mean = ColumnDataSource(dict(d=[], tb=[], xhi=[]), name="lightcone-mean-source")
        glob = figure(name="lightcone-global", frame_width=width, frame_height=120, x_range=side.x_range,
                      tools="", toolbar_location=None, x_axis_label="Comoving distance from z = 6 [Mpc]",
                      y_axis_label="mean δT_b [mK]")
        glob.line("d", "tb", source=self.mean, color="#1f4e99", line_width=1.6, legend_label="mean δT_b")
        glob.extra_y_ranges = {"xhi": Range1d(0, 1.05)}
        glob.add_layout(LinearAxis(y_range_name="xhi", axis_label="x_HI"), "right")
        glob.line("d", "xhi", source=self.mean, y_range_name="xhi", color="#d62728", line_dash="dashed",
                  line_width=1.4, legend_label="neutral fraction")
        glob.legend.label_text_font_size = "10px"
        glob.add_layout(glob.legend[0], "right")
        self.side, self.glob = side, glob
        self.layout = column(side, glob)

    def show(self, tb: np.ndarray, redshift: np.ndarray, cell_mpc: float, row: int, title: str,
             xhi: np.ndarray | None = None) -> None:
        """Draw transverse row ``row`` of ``tb`` (x, y, line of sight) in mK, and x_HI per slice if known."""
        start = int(np.searchsorted(redshift, 6.0)) if np.isfinite(redshift[-1]) else 0
        cut = tb[:, min(row, tb.shape[1] - 1), start:]
        length = cut.shape[1] * cell_mpc
        self.image.data = dict(image=[cut.astype(np.float32)], x=[0.0], y=[0.0], dw=[length], dh=[tb.shape[0] * cell_mpc])
        lim = float(np.percentile(np.abs(cut), 99.5)) or 1.0
        self.mapper.update(low=-lim, high=lim)
        d = (np.arange(cut.shape[1]) + 0.5) * cell_mpc
        self.mean.data = dict(d=d, tb=tb[:, :, start:].mean(axis=(0, 1)),
                              xhi=np.full(len(d), np.nan) if xhi is None else np.asarray(xhi, dtype=float)[start:])
        z = redshift[start:]
        if np.isfinite(z).all():
            ticks = [t for t in range(int(np.ceil(z[0])), int(z[-1]) + 1)]
            where = np.interp(ticks, z, d)
            self.z_axis.ticker = FixedTicker(ticks=list(where))
            self.z_axis.major_label_overrides = {float(w): str(t) for w, t in zip(where, ticks)}
        self.side.x_range.update(start=0, end=length)
        self.side.y_range.update(start=0, end=tb.shape[0] * cell_mpc)
        self.side.title.text = title

