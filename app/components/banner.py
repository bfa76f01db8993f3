"""The page's message banners: errors from the core in red, recoverable warnings in amber.

Both take text, never markup: messages quote file names, header cards and links (see safe_text)."""
from __future__ import annotations

import logging
import uuid

import panel as pn

from astroml_core.data.shown_paths import scrub_text
from astroml_core.errors import AstroMLError

from .safe_text import md_text

__all__ = ["Banner", "error_markdown"]

log = logging.getLogger(__name__)


def error_markdown(exc: BaseException) -> str:
    """The banner's Markdown for ``exc``: never a class name, a traceback, a server path or an upload's stored
    name. A typed error shows its title and message (paths shown relative to the data root, uploads by the
    sender's name); anything else is logged with a short reference the user can quote."""
    if isinstance(exc, AstroMLError):
        message = scrub_text(str(exc))
        return f"**{md_text(exc.title)}**: {md_text(message)}" if message else f"**{md_text(exc.title)}**"
    ref = uuid.uuid4().hex[:6]
    log.error("unexpected error in a page callback (reference %s)", ref, exc_info=exc)
    return (f"**Something went wrong on the server** (reference {ref}); the session goes on. If it happens "
            "again, please report it with this reference.")


class Banner(pn.viewable.Viewer):
    """An error alert and a warning alert; both hidden until there is something to say."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                    css_classes=["error-banner"], margin=(5, 10))
        self._warning = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                      css_classes=["warning-banner"], margin=(5, 10))

    def error(self, exc: BaseException) -> None:
        """Show an exception in plain language: a typed core error by its family's title and its message,
        anything else as a server fault with a reference to quote (the details go to the server's log)."""
        self._error.param.update(object=error_markdown(exc), visible=True)

    def warn(self, notes: list[str] | tuple[str, ...]) -> None:
        """Show recoverable notes (e.g. no celestial WCS), or hide the warning when there are none."""
        self._warning.param.update(object="  \n".join(md_text(scrub_text(n)) for n in notes), visible=bool(notes))

    def clear(self) -> None:
        """Hide the error (after a successful action)."""
        self._error.visible = False

    @property
    def error_text(self) -> str:
        return self._error.object if self._error.visible else ""

    def __panel__(self):
        return pn.Column(self._error, self._warning, sizing_mode="stretch_width", margin=0)
