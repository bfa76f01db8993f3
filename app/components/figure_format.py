"""Figures out for slides: every plot's save tool writes PNG; this switch makes them write SVG instead
(Bokeh's SVG backend), for the plots on the page when it is switched.

BokehJS builds a plot's canvas once, from the plot's ``output_backend`` at that time, and its save tool
exports with the canvas's backend; so besides setting the plot's backend (which plots drawn later read),
a small CustomJS hands the new backend to the canvases already drawn."""
from __future__ import annotations

import panel as pn
import param
from bokeh.models import CustomJS, Plot

from .locking import with_document_lock

__all__ = ["FigureFormat"]


class FigureFormat(pn.viewable.Viewer):
    """A sidebar switch between PNG (canvas) and SVG output of every plot in the session."""

    svg = param.Boolean(default=False, label="Plots save as SVG (for slides)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.param.watch(lambda e: with_document_lock(self.apply), "svg")
        self._to_canvas = CustomJS(code="for (const view of Bokeh.index.find(cb_obj)) "
                                        "{ view.canvas_view.model.output_backend = cb_obj.output_backend }")

    def apply(self) -> int:
        """Set every plot of this session's document to the chosen backend; returns how many."""
        doc = pn.state.curdoc
        plots = list(doc.select({"type": Plot})) if doc is not None else []
        for plot in plots:
            if self._to_canvas not in plot.js_property_callbacks.get("change:output_backend", []):
                plot.js_on_change("output_backend", self._to_canvas)
            plot.output_backend = "svg" if self.svg else "canvas"
        return len(plots)

    def __panel__(self):
        return pn.Column(pn.pane.HTML("<div style='font-size:12px;color:#555;margin-top:14px'>Figures: each plot's "
                                      "save tool (↓ in its toolbar) downloads it.</div>", width=190),
                         pn.widgets.Checkbox.from_param(self.param.svg, css_classes=["figure-svg"]))
