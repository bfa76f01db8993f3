"""The page's message banners: errors from the core in red, recoverable warnings in amber.

Both take text, never markup: messages quote file names, header cards and links (see safe_text)."""
from __future__ import annotations

import logging

import panel as pn

from astroml_core.errors import AstroMLError

from .safe_text import md_text

__all__ = ["Banner"]

log = logging.getLogger(__name__)


class Banner(pn.viewable.Viewer):
    """An error alert and a warning alert; both hidden until there is something to say."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                    css_classes=["error-banner"], margin=(5, 10))
        self._warning = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                      css_classes=["warning-banner"], margin=(5, 10))

    def error(self, exc: BaseException) -> None:
        """Show an exception: a typed core error by its message, anything else as an internal error."""
        if isinstance(exc, AstroMLError):
            text = f"**{type(exc).__name__}**: {md_text(exc)}"
        else:
            log.exception("unexpected error in a page callback", exc_info=exc)
            text = (f"**Internal error** ({type(exc).__name__}: {md_text(exc)}). The session goes on; "
                    "please report it.")
        self._error.param.update(object=text, visible=True)

    def warn(self, notes: list[str] | tuple[str, ...]) -> None:
        """Show recoverable notes (e.g. no celestial WCS), or hide the warning when there are none."""
        self._warning.param.update(object="  \n".join(md_text(n) for n in notes), visible=bool(notes))

    def clear(self) -> None:
        """Hide the error (after a successful action)."""
        self._error.visible = False

    @property
    def error_text(self) -> str:
        return self._error.object if self._error.visible else ""

    def __panel__(self):
        return pn.Column(self._error, self._warning, sizing_mode="stretch_width", margin=0)
