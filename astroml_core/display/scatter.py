"""Screen-sized images of large 2-D scatters with datashader: counts by category or the mean of a value.

Only the visible window is aggregated, at the plot's pixel size, so a pan or zoom over a million points
costs one aggregation and one shade (~0.1 s on 2 cores after numba has compiled), never a transfer of
the points to the browser. Selected points are drawn on top in black, spread so a few stay visible.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ScatterData", "render", "warm_up", "CATEGORY_COLOURS", "VALUE_CMAP"]

# well-separated colours (no near-white, no black: black marks the selection)
CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#8c564b", "#9467bd", "#e377c2", "#17becf", "#bcbd22",
                    "#ff7f0e", "#7f7f7f", "#393b79", "#637939", "#843c39", "#aaaaaa", "#e7ba52", "#5254a3", "#ad494a")
VALUE_CMAP = ("#313695", "#4575b4", "#74add1", "#abd9e9", "#fee090", "#fdae61", "#f46d43", "#d73027", "#a50026")


@dataclass
class ScatterData:
    """Points with one categorical column and any number of value columns, kept as a DataFrame."""

    frame: object            # pandas DataFrame with x, y, cat (categorical) and value columns
    categories: tuple[str, ...]

    @classmethod
    def build(cls, coords: np.ndarray, categories: np.ndarray, values: dict[str, np.ndarray]) -> "ScatterData":
        import pandas as pd

        cats = tuple(sorted(set(np.asarray(categories).astype(str))))
        frame = pd.DataFrame({"x": np.asarray(coords[:, 0], np.float32), "y": np.asarray(coords[:, 1], np.float32),
                              "cat": pd.Categorical(np.asarray(categories).astype(str), categories=cats)})
        for name, v in values.items():
            frame[name] = np.asarray(v, np.float32)
        return cls(frame, cats)


def _colour_key(categories: tuple[str, ...]) -> dict[str, str]:
    return {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(categories)}


def render(data: ScatterData, x_range: tuple[float, float], y_range: tuple[float, float], width: int, height: int,
           *, value: str | None = None, value_span: tuple[float, float] | None = None,
           selected: np.ndarray | None = None) -> np.ndarray:
    """RGBA image (height, width) uint32 of the window: by category, or by the mean of column ``value``."""
    import datashader as ds
    import datashader.transfer_functions as tf

    canvas = ds.Canvas(plot_width=int(width), plot_height=int(height), x_range=tuple(map(float, x_range)),
                       y_range=tuple(map(float, y_range)))
    if value is None:
        agg = canvas.points(data.frame, "x", "y", agg=ds.count_cat("cat"))
        img = tf.shade(agg, color_key=_colour_key(data.categories), how="eq_hist", min_alpha=90)
    else:
        agg = canvas.points(data.frame, "x", "y", agg=ds.mean(value))
        img = tf.shade(agg, cmap=list(VALUE_CMAP), how="linear", span=value_span)
    img = tf.dynspread(img, threshold=0.8, max_px=3)
    if selected is not None and len(selected):
        sub = data.frame.iloc[np.asarray(selected)]
        sel = canvas.points(sub, "x", "y", agg=ds.count())
        top = tf.dynspread(tf.shade(sel, cmap=["#000000", "#000000"], how="linear", min_alpha=255), threshold=0.9,
                           max_px=2)
        img = tf.stack(img, top)
    return np.asarray(img.data, dtype=np.uint32)           # row 0 = lowest y, as Bokeh's image_rgba draws it


def warm_up(data: ScatterData | None = None) -> None:
    """Render ``data`` (default: a small random set) once in every mode on a tiny canvas, so numba has
    compiled the aggregations for its columns and categories before anyone pans (~0.3–4 s)."""
    if data is None:
        rng = np.random.default_rng(0)
        data = ScatterData.build(rng.normal(size=(1000, 2)), rng.choice(["a", "b"], 1000), {"v": rng.normal(size=1000)})
    values = [c for c in data.frame.columns if c not in ("x", "y", "cat")]
    x, y = data.frame["x"], data.frame["y"]
    window = ((float(x.min()), float(x.max()) + 1e-6), (float(y.min()), float(y.max()) + 1e-6))
    for kwargs in [{}, {"selected": np.arange(min(10, len(data.frame)))}] + [{"value": v, "value_span": (0.0, 1.0)}
                                                                            for v in values]:
        render(data, *window, 32, 32, **kwargs)
