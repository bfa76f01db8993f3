"""Held-out checks of a posterior model: posterior mean against truth per parameter (68 % bars, R² in
the title) and the TARP expected-coverage curve with its ±0.05 band, from the arrays and card the
training script shipped beside the weights."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import Band, ColumnDataSource
from bokeh.plotting import figure

from astroml_core.tasks.inference.cards import card_front, held_out_arrays

from .corner_plot import axis_label

__all__ = ["heldout_layout"]

SHOWN = 300


def _scatter(p, k: int, arrays, r2: float, prefix: str):
    rng = np.random.default_rng(0)
    idx = rng.choice(len(arrays["truth"]), size=min(SHOWN, len(arrays["truth"])), replace=False)
    t, m = arrays["truth"][idx, k], arrays["mean"][idx, k]
    fig = figure(frame_width=190, frame_height=170, x_range=(p.low, p.high), y_range=(p.low, p.high), tools="save",
                 toolbar_location=None, title=f"{p.label}: R² = {r2:.3f}", name=f"{prefix}-scatter-{p.name}",
                 x_axis_label=f"true {axis_label(p)}", y_axis_label="posterior mean")
    fig.segment(t, arrays["q16"][idx, k], t, arrays["q84"][idx, k], color="#9db4d8", line_width=1)
    fig.scatter(t, m, size=3, color="#1f4e99")
    fig.line([p.low, p.high], [p.low, p.high], color="#d62728", line_dash="dashed")
    fig.title.text_font_size = "12px"
    for axis in (fig.xaxis, fig.yaxis):
        axis.axis_label_text_font_size = "11px"
        axis.ticker.desired_num_ticks = 4
    return fig


def _tarp(front: dict, arrays: dict, prefix: str):
    alpha = np.linspace(0, 1, 51)
    fig = figure(frame_width=230, frame_height=230, x_range=(0, 1), y_range=(0, 1), tools="save", toolbar_location=None,
                 title=f"TARP coverage (max |Δ| = {front['held_out']['tarp_max_deviation']:.3f})",
                 x_axis_label="credibility level α", y_axis_label="expected coverage", name=f"{prefix}-tarp")
    band = ColumnDataSource(dict(a=alpha, lo=np.clip(alpha - 0.05, 0, 1), hi=np.clip(alpha + 0.05, 0, 1)))
    fig.add_layout(Band(base="a", lower="lo", upper="hi", source=band, fill_color="#cccccc", fill_alpha=0.5))
    fig.line(alpha, alpha, color="#555", line_dash="dashed", legend_label="calibrated ± 0.05")
    fig.line(arrays["tarp_alpha"], arrays["tarp_coverage"], color="#d62728", line_width=2, legend_label="held-out")
    fig.legend.location = "top_left"
    fig.legend.label_text_font_size = "10px"
    fig.title.text_font_size = "12px"
    return fig


def heldout_layout(model: str, params, prefix: str):
    """Scatter grid + TARP plot for the shipped ``model`` (its card and heldout.npz)."""
    front, arrays = card_front(model), held_out_arrays(model)
    r2 = front["held_out"]["r2"]
    scatters = [_scatter(p, k, arrays, r2[p.name], prefix) for k, p in enumerate(params)]
    grid = column(*[row(*scatters[i:i + 3]) for i in range(0, len(scatters), 3)])
    return row(grid, _tarp(front, arrays, prefix))
