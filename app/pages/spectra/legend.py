"""The map's legend: a swatch and a count per class, or the colour ramp and its 1–99 % span for a value."""
from __future__ import annotations

import numpy as np

from astroml_core.display.scatter import CATEGORY_COLOURS, VALUE_CMAP
from astroml_core.tasks.spectra.display_names import display_name

from ...components.safe_text import html_text

__all__ = ["legend_html", "value_span"]

SWATCH = ("<span style='display:inline-block;margin:0 10px 2px 0;white-space:nowrap'><span style='display:inline-block;"
          "width:10px;height:10px;background:{colour};margin-right:4px'></span>{name} ({n:,})</span>")


def value_span(values: np.ndarray) -> tuple[float, float]:
    """The 1–99 % range of a colouring value (what the ramp spans)."""
    return float(np.nanpercentile(values, 1)), float(np.nanpercentile(values, 99))


def legend_html(title: str, categories, classes: np.ndarray, span: tuple[float, float] | None) -> str:
    """The legend of a map coloured by ``title``: per category (with each one's count among ``classes``) when
    ``span`` is None, else the ramp from ``span[0]`` to ``span[1]``."""
    if span is None:
        counts = dict(zip(*np.unique(classes, return_counts=True)))
        items = "".join(SWATCH.format(colour=CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)],
                                      name=html_text(display_name(c)), n=counts.get(c, 0))
                        for i, c in enumerate(categories))
    else:
        lo, hi = span
        items = (f"<div>mean per screen pixel</div><div style='height:12px;width:200px;"
                 f"background:linear-gradient(to right, {', '.join(VALUE_CMAP)})'></div><div style='display:flex;"
                 f"justify-content:space-between;width:200px'><span>{lo:.3g}</span><span>{hi:.3g}</span></div>")
    return f"<b>{title}</b> (black: the selection)<br>{items}"
