""""Send to vetting": make a campaign of a page's current candidates (admins only), then link to it."""
from __future__ import annotations

import datetime
from typing import Callable

import panel as pn

from astroml_core.errors import AstroMLError, InvalidVoteError
from astroml_core.vetting import open_store

from ..auth import current_user
from .safe_text import html_text

__all__ = ["SendToVetting", "MAX_CANDIDATES"]

MAX_CANDIDATES = 2000


class SendToVetting(pn.viewable.Viewer):
    """A campaign-name box and a button; ``build()`` returns (kind, labels, candidates, provenance dict);
    ``default_name()`` says what is sent, for a campaign left unnamed (the time is added)."""

    def __init__(self, build: Callable[[], tuple], default_name: Callable[[], str], on_error, **params) -> None:
        super().__init__(**params)
        self._build, self._default_name, self._on_error = build, default_name, on_error
        user = open_store().user(current_user())
        self.admin = user is not None and user.role == "admin"
        self.campaign_name = pn.widgets.TextInput(placeholder="Campaign name", width=300, css_classes=["vet-send-name"],
                                         disabled=not self.admin)
        self.button = pn.widgets.Button(label="Send to vetting", color="success", width=150,
                                        css_classes=["vet-send"], disabled=not self.admin)
        self.button.on_click(lambda e: self.send())
        self.status = pn.pane.HTML("" if self.admin else "<a href='./login'>Log in</a> as an admin to send these "
                                   "candidates to a vetting campaign.", css_classes=["vet-send-status"],
                                   styles={"font-size": "12px"}, margin=(0, 10))

    def send(self) -> int | None:
        """Create the campaign; returns its id (None when refused, with the reason in the banner)."""
        try:
            kind, labels, candidates, provenance = self._build()
            if not candidates:
                raise InvalidVoteError("nothing to send: select or detect some candidates first")
            when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            name = self.campaign_name.value.strip() or f"{self._default_name()} ({when})"
            cid = open_store().create_campaign(current_user(), name, kind, labels, candidates[:MAX_CANDIDATES],
                                               **provenance)
        except AstroMLError as exc:
            self._on_error(exc)
            return None
        more = f" (the first {MAX_CANDIDATES:,})" if len(candidates) > MAX_CANDIDATES else ""
        self.status.object = (f"Campaign <b>{html_text(name)}</b>: {min(len(candidates), MAX_CANDIDATES):,} candidates{more} · "
                              f"<a class='vet-send-link' href='./vetting?campaign={cid}'>open it in Vetting →</a>")
        self.campaign_name.value = ""
        return cid

    def __panel__(self):
        return pn.Column(pn.Row(self.campaign_name, self.button), self.status)
