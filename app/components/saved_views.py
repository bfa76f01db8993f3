"""Named saved views in the sidebar: a logged-in user names the current page state and gets a link back
to it on any later visit (kept in the app's database, per user)."""
from __future__ import annotations

import logging
from functools import partial

import panel as pn

from astroml_core.errors import AstroMLError
from astroml_core.vetting import open_store

from ..auth import current_user
from .locking import run_io, with_document_lock
from .safe_text import html_text

__all__ = ["SavedViews"]

log = logging.getLogger(__name__)


class SavedViews(pn.viewable.Viewer):
    """Save this view (name it), the user's saved views as links, and delete one."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.user = current_user()
        self.view_name = pn.widgets.TextInput(placeholder="Name this view", width=185, css_classes=["view-name"])
        self.save = pn.widgets.Button(label="Save this view", width=185, css_classes=["view-save"])
        self.save.on_click(lambda e: with_document_lock(self.save_current))
        self.chosen = pn.widgets.Select(options={}, width=108, css_classes=["view-choice"])
        self.delete = pn.widgets.Button(label="Delete", width=62, css_classes=["view-delete"])
        self.delete.on_click(lambda e: with_document_lock(self.delete_chosen))
        self.links = pn.pane.HTML("", css_classes=["saved-views"], styles={"font-size": "14px"})
        self.message = pn.pane.HTML("", css_classes=["view-message"], styles={"font-size": "12px", "color": "#555"})
        self._refresh()

    def _refresh(self) -> None:
        views = open_store().views(self.user)
        self.links.object = "".join(f"<div><a class='saved-view' href='.{html_text(v.path)}'>{html_text(v.name)}</a>"
                                    f"</div>" for v in views) or "<i>None saved yet</i>"
        options = {v.name: v.id for v in views}
        self.chosen.param.update(options=options, value=next(iter(options.values()), None))

    def save_current(self) -> None:
        """Save the page's current state (its path and query string) under the typed name (the database
        write on an I/O thread)."""
        loc = pn.state.location
        path = (loc.pathname or "/") + (loc.search or "") if loc is not None else "/"
        name = self.view_name.value_input or self.view_name.value
        run_io(partial(open_store().save_view, self.user, name, path), self._saved, self._refused)

    def _saved(self, view) -> None:
        self.message.object = f"Saved “{html_text(view.name)}”"
        self.view_name.param.update(value="", value_input="")
        self._refresh()

    def delete_chosen(self) -> None:
        """Delete the saved view chosen in the list (on an I/O thread)."""
        if self.chosen.value is None:
            return
        run_io(partial(open_store().delete_view, self.user, self.chosen.value), lambda _: self._refresh(),
               self._refused)

    def _refused(self, exc: BaseException) -> None:
        if not isinstance(exc, AstroMLError):
            log.error("saving a view failed", exc_info=exc)
        self.message.object = html_text(exc if isinstance(exc, AstroMLError) else "could not save: please try again")

    def __panel__(self):
        if self.user is None:
            return pn.pane.HTML("<div style='font-size:12px;color:#555;margin-top:18px'>"
                                "<a href='./login'>Log in</a> to save named views.</div>")
        return pn.Column(pn.pane.HTML("<b>Saved views</b>", margin=(18, 5, 0, 5)), self.links, self.view_name,
                         self.save, pn.Row(self.chosen, self.delete), self.message)
