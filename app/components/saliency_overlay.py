"""What the model sees, drawn on the main image: contours of a source's positive attribution (lightly
smoothed for display) at fixed fractions of its peak, in the image's pixel coordinates."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource

__all__ = ["SaliencyContours", "attribution_contours"]

LEVELS = (0.25, 0.6)          # fractions of the peak of the smoothed positive attribution
COLOUR = "#ffd400"


def attribution_contours(att: np.ndarray, x0: int, y0: int, levels=LEVELS) -> dict[str, list]:
    """Multi-line data (xs, ys, level) of the contours of ``att`` (y, x) whose pixel [0, 0] is (x0, y0)."""
    import contourpy
    from scipy import ndimage

    pos = ndimage.gaussian_filter(np.clip(np.nan_to_num(att), 0, None).astype(float), 1.0)
    top = float(pos.max())
    xs, ys, names = [], [], []
    if top > 0 and min(pos.shape) >= 2:
        gen = contourpy.contour_generator(z=pos)
        for level in levels:
            for line in gen.lines(level * top):
                xs.append((line[:, 0] + x0).tolist())
                ys.append((line[:, 1] + y0).tolist())
                names.append(f"{level:.0%} of peak")
    return dict(xs=xs, ys=ys, level=names)


class SaliencyContours:
    """A contour layer on a Bokeh figure; ``show`` draws a source's attribution, ``clear`` removes it."""

    def __init__(self, fig, name: str) -> None:
        self.source = ColumnDataSource(dict(xs=[], ys=[], level=[]), name=f"{name}-saliency-contours")
        fig.multi_line("xs", "ys", source=self.source, line_color=COLOUR, line_width=1.6, line_alpha=0.9)

    def show(self, att: np.ndarray, x0: int, y0: int) -> None:
        self.source.data = attribution_contours(att, x0, y0)

    def clear(self) -> None:
        self.source.data = dict(xs=[], ys=[], level=[])
