""""Send to vetting": make a campaign of a page's current candidates (admins only), then link to it."""
from __future__ import annotations

import datetime
from functools import partial
from typing import Callable

import panel as pn

from astroml_core.data.shown_paths import scrub_text, shown_path
from astroml_core.errors import InvalidVoteError
from astroml_core.vetting import open_store

from ..auth import current_user
from .locking import run_io
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
        """Create the campaign on an I/O thread (building up to 2,000 candidates with previews and writing
        them takes seconds, and the database may be busy); returns its id when it ran here and now (outside
        a served session), else None: the status line says when it is made. Refusals go to the banner."""
        self.button.disabled = True
        self.status.object = "Sending…"
        made: list[int] = []
        run_io(partial(self._create, self.campaign_name.value.strip()),
               lambda done: made.append(self._created(*done)), self._refused)
        return made[0] if made else None

    def _create(self, name: str) -> tuple[int, str, int]:
        """(campaign id, name, candidates asked for): the page's candidates written as a campaign."""
        kind, labels, candidates, provenance = self._build()
        if not candidates:
            raise InvalidVoteError("nothing to send: select or detect some candidates first")
        name = name or f"{scrub_text(self._default_name())} ({datetime.datetime.now():%Y-%m-%d %H:%M:%S})"
        if provenance.get("source"):            # the campaign names its file as users know it
            provenance = {**provenance, "source": shown_path(provenance["source"])}
        cid = open_store().create_campaign(current_user(), name, kind, labels, candidates[:MAX_CANDIDATES],
                                           **provenance)
        return cid, name, len(candidates)

    def _created(self, cid: int, name: str, n: int) -> int:
        more = f" (the first {MAX_CANDIDATES:,})" if n > MAX_CANDIDATES else ""
        self.status.object = (f"Campaign <b>{html_text(name)}</b>: {min(n, MAX_CANDIDATES):,} candidates{more} · "
                              f"<a class='vet-send-link' href='./vetting?campaign={cid}'>open it in Vetting →</a>")
        self.campaign_name.value = ""
        self.button.disabled = not self.admin
        return cid

    def _refused(self, exc: BaseException) -> None:
        self.status.object = ""
        self.button.disabled = not self.admin
        self._on_error(exc)

    def __panel__(self):
        return pn.Column(pn.Row(self.campaign_name, self.button), self.status)
