"""Where the spectra page's widgets sit: the file and the choices on top, the map beside the confusion matrix
and the unexpected, the stack, saliency, selection and table below."""
from __future__ import annotations

import panel as pn

from .anomaly_table import TOP

__all__ = ["layout"]


def layout(page) -> pn.Column:
    """The page's layout (its widgets built by ``SpectraPage``)."""
    choices = pn.Row(pn.widgets.RadioButtonGroup.from_param(page.param.projection, css_classes=["projection-choice"]),
                     pn.widgets.Select.from_param(page.param.colour_by, width=170, css_classes=["colour-choice"]))
    controls = pn.Row(pn.Column(page.source, width=420),
                      pn.Column(pn.Row(page.title, page.copy_link), page.status, page.progress, page.notes, choices))
    tabs = pn.Tabs(("Confusion matrix", pn.pane.Bokeh(page.confusion.fig)),
                   ("The unexpected", pn.Column(pn.pane.HTML(f"The {TOP} highest anomaly scores: click one to read it",
                                                             styles={"font-size": "12px"}), page.anomalies)),
                   css_classes=["spectra-tabs"])
    top = pn.Row(pn.Column(pn.pane.Bokeh(page.map.fig), page.legend), tabs)
    exports = pn.Row(page.export_ecsv, page.export_csv, page.send)
    below = pn.Column(pn.pane.Bokeh(page.stack.fig), pn.pane.Bokeh(page.saliency.fig), page.selection_info, exports,
                      page.table)
    return pn.Column(page.banner, controls, top, below, sizing_mode="stretch_width")
