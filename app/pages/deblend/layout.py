"""The deblending page's table, export buttons and layout: controls left of the image, the table and the
selected source's stamps and saliency under them."""
from __future__ import annotations

from functools import partial
from typing import Callable

import panel as pn

from .saliency import EXPLAINED
from .state import EXPORTS

__all__ = ["source_table", "downloads", "layout"]

_TABLE_CSS = (".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } .tabulator-col-content "
              "{ padding: 4px 3px !important; } .tabulator-col.tabulator-sortable .tabulator-col-title "
              "{ padding-right: 11px !important; }")


def source_table() -> pn.widgets.Tabulator:
    """The source table: one selectable row per source, narrow id / RA / Dec / β columns."""
    return pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=320, width=640,
                                layout="fit_columns", pagination=None, css_classes=["deblend-table"],
                                widths={"id": 36, "RA (°)": 84, "Dec (°)": 74, "β": 44}, stylesheets=[_TABLE_CSS])


def downloads(export: Callable[[str], object]) -> pn.Row:
    """A download button per export (``export(suffix)`` gives its file), hidden until a run."""
    return pn.Row(*[pn.widgets.FileDownload(callback=partial(export, suffix), filename=f"sources{suffix}", label=label,
                                            width=140, css_classes=[f"export{suffix.replace('.', '-')}"])
                    for suffix, label in EXPORTS], visible=False)


def layout(page) -> pn.Column:
    """The page's widgets laid out: banner, controls and image, then table and the selected source."""
    controls = pn.Column(
        page.source, page.title, page.info, page.notes, page.copy_link,
        pn.widgets.RadioButtonGroup.from_param(page.param.view, css_classes=["view-choice"]),
        pn.widgets.FloatSlider.from_param(page.param.q, width=300),
        pn.widgets.FloatSlider.from_param(page.param.stretch, width=300),
        pn.Row(page.run_button, page.jobs.progress), page.status,
        pn.widgets.RadioButtonGroup.from_param(page.param.method, css_classes=["method-choice"]),
        pn.Row(pn.widgets.Checkbox.from_param(page.param.show_masks, css_classes=["show-masks"]),
               pn.widgets.Checkbox.from_param(page.param.contours, css_classes=["mask-contours"])),
        pn.widgets.FloatSlider.from_param(page.param.opacity, width=300, css_classes=["mask-opacity"]),
        width=420)
    right = pn.Column(pn.pane.Bokeh(page.view_fig.fig), page.selection)
    stamps = pn.Column(pn.pane.HTML("<b>Selected source</b>: deblended image and residual per band",
                                    styles={"font-size": "12px"}),
                       pn.pane.Bokeh(page.stamps.layout),
                       pn.Row(pn.pane.Bokeh(page.saliency.view.fig),
                              pn.pane.HTML(EXPLAINED, width=170, styles={"font-size": "12px"})))
    lower = pn.Row(pn.Column(pn.widgets.Select.from_param(page.param.band, width=200), page.table_caption,
                             page.table, page.downloads, page.send), stamps)
    return pn.Column(page.banner, pn.Row(controls, right), lower, sizing_mode="stretch_width")
