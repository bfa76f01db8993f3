"""Changing a page's own Bokeh models from widget events that Panel processes without the document lock."""
from __future__ import annotations

import panel as pn

__all__ = ["with_document_lock"]


def with_document_lock(callback) -> None:
    """Run ``callback`` now, or on the next tick when served: some widget events (Tabulator selection,
    button groups) are processed in Panel's unlocked context, where the page's own Bokeh models must
    not be changed."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.add_next_tick_callback(callback)
    else:
        callback()
