"""The vetting page: the next candidate this user has not voted on (most uncertain first), its preview and
the model's output, vote buttons with keyboard shortcuts, the comment thread, and the consensus as it
grows. Everything is read from and written to the shared vetting store; the page polls the campaign's
revision once a second, so votes cast in other sessions, processes or hosts appear without a reload.

Votes and comments are written on a thread of their own (never on the event loop, never behind the model
queue): while another program holds the database's write lock, the voter sees "Database busy, retrying…"
and every other session keeps answering; the vote is then either saved or plainly refused ("Not saved"),
with a button that sends it again.
"""
from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import panel as pn
import param

from astroml_core.errors import AstroMLError, StoreBusyError, UnknownRecordError
from astroml_core.vetting import CandidateInfo, campaign_bytes, decode_preview, open_store
from astroml_core.vetting.store import on_busy

from ..auth import current_user
from ..components.banner import Banner
from ..components.candidate_preview import preview_figure
from ..components.keyboard import KeyShortcuts
from ..components.locking import every, next_tick, run_io, with_document_lock
from ..components.safe_text import html_text, md_text
from ..components.url_state import copy_link_button, sync_url
from .spec import PageSpec

__all__ = ["SPEC", "VettingPage"]

log = logging.getLogger(__name__)

TITLE = "Vetting"
BLURB = ("Vet the models' candidates together: the most uncertain first, a preview with units, one key "
         "per label, comment threads, and the consensus (majority and a reliability-weighted "
         "Dawid–Skene estimate) growing live as others vote. Admins export it with provenance.")

POLL_MS = 1000
EXPORTS = (("ECSV", ".ecsv"), ("CSV", ".csv"), ("VOTable", ".xml"))


@lru_cache(maxsize=1)
def _write_pool() -> ThreadPoolExecutor:
    """Threads for vetting-store writes, shared by every session and apart from the model queue and file
    opening: a database locked by another program holds up only the writes waiting for it."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="astroml-vetting-write")


class VettingPage(pn.viewable.Viewer):
    """Page state: the campaign and candidate shown (both in the URL, so a link opens the same candidate)."""

    campaign = param.Integer(default=None, allow_None=True, doc="Campaign id")
    candidate = param.Integer(default=None, allow_None=True, doc="Candidate id shown")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.store = open_store()
        self.user = self.store.user(current_user())
        self._revision = -1
        self._history: list[int] = []
        self._skipped: list[int] = []
        self._labels: tuple[str, ...] = ()
        self._kind = ""
        self._cand: CandidateInfo | None = None
        self._writing = False
        self._unsent: tuple[int, str, float] | None = None   # (candidate, label, confidence) not stored: busy
        self.banner = Banner()
        self.who = pn.pane.HTML(self._who_html(), css_classes=["vet-user"], margin=(0, 10))
        self.picker = pn.widgets.Select(label="Campaign", options={}, width=360, css_classes=["vet-campaign"])
        self.progress = pn.pane.HTML("", css_classes=["vet-progress"], styles={"font-size": "13px"}, margin=(0, 10))
        self.title = pn.pane.Markdown("### No campaign", css_classes=["vet-title"], margin=(0, 10))
        self.model_info = pn.pane.HTML("", css_classes=["vet-model"], styles={"font-size": "13px"}, margin=(0, 10),
                                       width=620)
        self.preview = pn.pane.Bokeh(None, css_classes=["vet-preview"])
        self.buttons = pn.FlexBox(css_classes=["vet-buttons"], sizing_mode="stretch_width")
        self.confidence = pn.widgets.FloatSlider(label="How sure (confidence)", start=0.0, end=1.0, step=0.25,
                                                 value=1.0, width=260, css_classes=["vet-confidence"])
        self.back_button = pn.widgets.Button(label="← Back", width=90, css_classes=["vet-back"])
        self.next_button = pn.widgets.Button(label="Skip →", width=90, css_classes=["vet-next"])
        self.back_button.on_click(lambda e: with_document_lock(self.back))
        self.next_button.on_click(lambda e: with_document_lock(self.skip))
        self.ack = pn.pane.HTML("", css_classes=["vet-ack"], styles={"font-size": "13px"}, margin=(0, 10))
        self.resend_button = pn.widgets.Button(label="Send the vote again", button_type="warning", width=180,
                                               visible=False, css_classes=["vet-resend"])
        self.resend_button.on_click(lambda e: with_document_lock(self.resend))
        self.keys_help = pn.pane.HTML("", styles={"font-size": "12px", "color": "#555"}, margin=(0, 10))
        self.consensus = pn.pane.HTML("", css_classes=["vet-consensus"], styles={"font-size": "13px"},
                                      margin=(0, 10), width=400)
        self.thread = pn.pane.HTML("", css_classes=["vet-thread"], styles={"font-size": "13px"}, margin=(0, 10),
                                   width=400)
        self.comment_box = pn.widgets.TextAreaInput(placeholder="Comment (press c to type here)", height=70, width=380,
                                                    max_length=5000, css_classes=["vet-comment-box"])
        self.reply_to = pn.widgets.Select(label="Reply to", options={"(new thread)": 0}, width=240,
                                          css_classes=["vet-reply-to"])
        self.comment_button = pn.widgets.Button(label="Comment", width=110, css_classes=["vet-comment"])
        self.comment_button.on_click(lambda e: with_document_lock(self.send_comment))
        self.keys = KeyShortcuts()
        self.keys.param.watch(lambda e: with_document_lock(lambda: self._key(e.new)), "press")
        self.exports = pn.Row(*[pn.widgets.FileDownload(callback=(lambda s=suffix: self._export(s)),
                                                        filename=f"campaign{suffix}", label=f"Export {name}",
                                                        color="light", width=125,
                                                        css_classes=[f"vet-export-{suffix[1:]}"])
                                for name, suffix in EXPORTS], visible=bool(self.user and self.user.role == "admin"))
        self.copy_link = copy_link_button()
        self._load_campaigns()
        self.picker.param.watch(lambda e: self.param.update(campaign=e.new, candidate=None), "value")
        sync_url(self, {"campaign": "campaign", "candidate": "candidate"}, on_error=self._bad_link)
        self.param.watch(lambda e: self._campaign_changed(), "campaign")
        self.param.watch(lambda e: self._candidate_changed(), "candidate")
        self._campaign_changed()
        every(self._poll, POLL_MS)

    # --- who and which campaign -----------------------------------------------------------------------
    def _who_html(self) -> str:
        if self.user is None:
            return ("Viewing as a guest: <a href='./login?next=./vetting' class='vet-login'>log in</a> to vote "
                    "and comment.")
        rights = "may vote and comment" if self.user.can_vote else "read-only (a viewer)"
        return (f"Logged in as <b class='vet-username'>{html_text(self.user.name)}</b> ({html_text(self.user.role)}, "
                f"{rights}) · <a href='./logout'>log out</a>")

    def _load_campaigns(self) -> None:
        campaigns = self.store.campaigns()
        self.picker.options = {f"{c.name} ({c.n_candidates} candidates)": c.id for c in campaigns}
        if campaigns and self.campaign is None:
            self.campaign = campaigns[0].id

    def _bad_link(self, values: dict) -> None:
        self.banner.error(UnknownRecordError(f"the link's {', '.join(values)} could not be opened"))

    def _campaign_changed(self) -> None:
        if self.campaign is None:
            self.title.object = ("### No campaign yet\nAn admin creates one with **Send to vetting** on the spectra "
                                 "page (log in first; `astroml users add NAME --role admin` makes an admin).")
            return
        try:
            info = self.store.campaign(self.campaign)
        except AstroMLError as exc:
            self.banner.error(exc)
            return
        if self.picker.value != info.id:
            self.picker.value = info.id
        self._labels, self._kind = info.labels, info.kind
        self._history, self._skipped = [], []
        self.model_info.object = (f"{html_text(info.kind.replace('_', ' '))} · model <b>{html_text(info.model_name or '—')}</b>"
                                  f" {html_text(info.model_version)} · made by {html_text(info.created_by)}")
        self._build_buttons()
        if self.candidate is None:
            self._advance()
        else:
            self._candidate_changed()

    def _build_buttons(self) -> None:
        can = bool(self.user and self.user.can_vote)
        buttons = []
        for k, label in enumerate(self._labels):
            key = f"{k + 1} · " if k < 9 else ""
            b = pn.widgets.Button(label=f"{key}{label}", color="primary" if can else "light", disabled=not can,
                                  css_classes=["vet-vote", f"vet-vote-{k + 1}"], margin=(3, 4))
            b.on_click(lambda e, lab=label: with_document_lock(lambda: self.cast(lab)))
            buttons.append(b)
        self.buttons.objects = buttons
        self.comment_button.disabled = self.comment_box.disabled = not can
        self.keys_help.object = ("Keys: <b>1–9</b> vote that label · <b>y</b> agree with the model · <b>n</b> or → "
                                 "skip · <b>b</b> or ← back · <b>c</b> comment" if can else
                                 "Voting needs a vetter or admin account.")

    # --- moving between candidates ------------------------------------------------------------------
    def _advance(self) -> None:
        """Show the most informative candidate this user has not voted on (nor skipped)."""
        if self.candidate is not None:
            self._history.append(self.candidate)
        nxt = self.store.next_candidate(self.campaign, self.user.name if self.user else None, after=self._skipped)
        if nxt is None and self._skipped:
            self._skipped = []
            nxt = self.store.next_candidate(self.campaign, self.user.name if self.user else None)
        self.candidate = nxt.id if nxt else None
        if nxt is None:
            self._show_done()

    def skip(self) -> None:
        """Leave this candidate for later."""
        if self.candidate is not None:
            self._skipped.append(self.candidate)
        self._advance()

    def back(self) -> None:
        """The candidate shown before this one (to change a vote)."""
        if self._history:
            self.candidate = self._history.pop()

    def _show_done(self) -> None:
        self.title.object = "### You have voted on every candidate of this campaign. Thank you!"
        self.preview.object = None
        self._refresh()

    def _candidate_changed(self) -> None:
        if self.candidate is None:
            return
        try:
            cand = self.store.candidate(self.candidate)
        except AstroMLError as exc:
            self.banner.error(exc)
            return
        if cand.campaign_id != self.campaign:
            self.campaign = cand.campaign_id
            return
        self._cand = cand
        self.title.object = f"### {md_text(cand.name)}"
        meta = " · ".join(f"{html_text(k)} {v:.4f}" if isinstance(v, float) else f"{html_text(k)} {html_text(v)}"
                          for k, v in cand.meta.items())
        self.model_info.object = (f"Model says <b class='vet-model-label'>{html_text(cand.model_label or '—')}</b> "
                                  f"(score {cand.score:.3f}, uncertainty {cand.uncertainty:.3f})"
                                  + (f" · {meta}" if meta else ""))
        try:
            self.preview.object = preview_figure(self._kind, decode_preview(cand.preview), cand.name)
        except Exception as exc:  # a broken preview must not stop the vetting
            log.warning("preview of candidate %s failed: %s", cand.id, exc)
            self.preview.object = None
        self._revision = -1
        self._refresh()

    # --- writing ------------------------------------------------------------------------------------
    def cast(self, label: str) -> None:
        """Vote ``label`` on the candidate shown; the acknowledgement appears only after the commit."""
        if self._cand is None:
            return
        if self._writing:
            self.ack.object = "<span class='vet-wait'>Still saving the last vote or comment…</span>"
            return
        cand, user, confidence = self._cand, self.user.name if self.user else None, float(self.confidence.value)
        self.resend_button.visible = False
        self.ack.object = f"<span class='vet-saving'>Saving <b>{html_text(label)}</b>…</span>"
        self._store_write(lambda: self.store.vote(user, cand.id, label, confidence),
                          partial(self._voted, cand), partial(self._vote_failed, cand, label, confidence))

    def resend(self) -> None:
        """Send again the vote the busy database refused (on its candidate, even if another is shown)."""
        if self._unsent is None or self._writing:
            return
        cand_id, label, confidence = self._unsent
        if self._cand is None or self._cand.id != cand_id:
            self.candidate = cand_id
        self.confidence.value = confidence
        self.cast(label)

    def _voted(self, cand: CandidateInfo, vote) -> None:
        self._unsent = None
        self.banner.clear()
        self.ack.object = (f"<span class='vet-saved'>Saved: <b>{html_text(vote.label)}</b> for {html_text(cand.name)} "
                           f"(vote #{vote.id}, confidence {vote.confidence:.2f})</span> · ← Back to change it")
        if self._cand is not None and self._cand.id == cand.id:
            self._advance()
        else:
            self._refresh()

    def _vote_failed(self, cand: CandidateInfo, label: str, confidence: float, exc: BaseException) -> None:
        if isinstance(exc, StoreBusyError):     # kept, for the voter to send again
            self._unsent = (cand.id, label, confidence)
            self.ack.object = (f"<span class='vet-not-saved' style='color:#a00'>Not saved: the database stayed busy; "
                               f"your vote (<b>{html_text(label)}</b> for {html_text(cand.name)}) was not stored — try again"
                               "</span>")
            self.resend_button.visible = True
        else:
            self.ack.object = ""
        self.banner.error(exc)

    def send_comment(self) -> None:
        """Post the comment box's text (as a reply when one is chosen); the text stays in the box until stored."""
        if self._cand is None:
            return
        if self._writing:
            self.ack.object = "<span class='vet-wait'>Still saving the last vote or comment…</span>"
            return
        cand, user = self._cand, self.user.name if self.user else None
        text = self.comment_box.value_input or self.comment_box.value  # value_input: typed, not yet blurred
        parent = self.reply_to.value or None
        self.ack.object = "<span class='vet-saving'>Saving the comment…</span>"
        self._store_write(lambda: self.store.comment(user, cand.id, text or "", parent),
                          self._commented, self._comment_failed)

    def _commented(self, comment) -> None:
        self.banner.clear()
        self.ack.object = "<span class='vet-saved'>Comment saved</span>"
        self.comment_box.param.update(value="", value_input="")
        self._refresh()

    def _comment_failed(self, exc: BaseException) -> None:
        self.ack.object = ("<span class='vet-not-saved' style='color:#a00'>Not saved: the database stayed busy; "
                           "your comment was not stored (it is still in the box) — try again</span>"
                           if isinstance(exc, StoreBusyError) else "")
        self.banner.error(exc)

    def _store_write(self, write, then, failed) -> None:
        """Run ``write()`` on a vetting-write thread and call ``then(result)`` or ``failed(exc)`` with the
        document lock held; while the database is locked the voter sees "busy, retrying". Outside a served
        session (headless tests), write here and now."""
        doc = pn.state.curdoc

        def busy(attempt: int, retry_in_s: float) -> None:       # on the write thread
            if doc is not None:
                next_tick(doc, partial(self._show_busy, attempt))

        def work():
            with on_busy(busy):
                return write()

        self._writing = True
        run_io(work, partial(self._write_done, then), partial(self._write_done, failed), pool=_write_pool())

    def _write_done(self, callback, value) -> None:
        self._writing = False
        callback(value)

    def _show_busy(self, attempt: int) -> None:
        if self._writing:
            self.ack.object = ("<span class='vet-busy' style='color:#a60'>Database busy, retrying… "
                               f"(try {attempt + 1})</span>")

    def _key(self, press: str) -> None:
        key = press.split("|")[0]
        if not (self.user and self.user.can_vote) or self._cand is None:
            return
        if key.isdigit() and 1 <= int(key) <= min(9, len(self._labels)):
            self.cast(self._labels[int(key) - 1])
        elif key == "y" and self._cand.model_label in self._labels:
            self.cast(self._cand.model_label)
        elif key in ("n", "ArrowRight"):
            self.skip()
        elif key in ("b", "ArrowLeft"):
            self.back()

    def _export(self, suffix: str):
        try:
            return io.BytesIO(campaign_bytes(self.store, self.campaign, self.user.name if self.user else None, suffix))
        except AstroMLError as exc:
            self.banner.error(exc)
            return None

    # --- reading ------------------------------------------------------------------------------------
    def _poll(self) -> None:
        if self.campaign is None:
            return
        try:
            if self.store.revision(self.campaign) != self._revision:
                self._refresh()
        except Exception as exc:  # the database may be briefly away: try again next second
            log.warning("vetting poll failed: %s", exc)

    def _refresh(self) -> None:
        """Progress, consensus, votes and the comment thread of the candidate shown, from the store."""
        if self.campaign is None:
            return
        self._revision = self.store.revision(self.campaign)
        user = self.user.name if self.user else None
        p = self.store.progress(self.campaign, user)
        self.progress.object = (f"<progress max='{p['candidates']}' value='{p['voted']}'></progress> "
                                f"<span class='vet-progress-text'>{p['voted']} of {p['candidates']} candidates have "
                                f"votes, {p['settled']} have ≥ 3"
                                + (f"; you have voted on {p['mine']}" if user else "") + "</span>")
        if self._cand is None:
            return
        row = self.store.consensus(self.campaign)[self._cand.id]
        counts = "".join(f"<tr><td>{html_text(lab)}</td><td class='vet-count' data-label='{html_text(lab)}' "
                         f"style='padding-left:12px'>{n}</td></tr>" for lab, n in row.counts.items() if n)
        ds = (f"Dawid–Skene: <b class='vet-ds'>{html_text(row.ds_label)}</b> (p = {row.ds_probability:.2f})"
              if row.ds_label else "Dawid–Skene estimate from 3 votes")
        majority = (f"Majority: <b class='vet-majority'>{html_text(row.majority)}</b> ({row.agreement:.0%} agree)"
                    if row.majority else "<span class='vet-majority'>No votes yet</span>")
        votes = ", ".join(f"{html_text(v.user)}: {html_text(v.label)}" for v in self.store.votes(self._cand.id))
        self.consensus.object = (f"<b>Consensus</b> · <span class='vet-nvotes'>{row.n_votes}</span> "
                                 f"vote{'' if row.n_votes == 1 else 's'}<br>"
                                 f"{majority}<br>{ds}<table style='margin-top:4px'>{counts}</table>"
                                 f"<div class='vet-voters' style='color:#555'>{votes}</div>")
        thread = self.store.thread(self._cand.id)
        self.thread.object = "<b>Comments</b>" + ("".join(
            f"<div class='vet-comment-item' style='margin-left:{16 * c.depth}px;border-left:2px solid #ccd;"
            f"padding-left:6px;margin-top:4px'><span style='color:#555'>#{c.id} {html_text(c.user)}:</span> "
            f"<span class='vet-comment-text' style='white-space:pre-wrap'>{html_text(c.text)}</span></div>"
            for c in thread) or "<div style='color:#777'>None yet</div>")
        self.reply_to.options = {"(new thread)": 0, **{f"#{c.id} {c.user}: {c.text[:30]}": c.id for c in thread}}

    def __panel__(self):
        head = pn.Row(self.picker, pn.Column(self.who, self.progress), self.copy_link, align="center")
        left = pn.Column(self.title, self.model_info, self.preview, self.keys, width=640)
        right = pn.Column("#### Your vote", self.buttons, self.confidence, pn.Row(self.back_button, self.next_button),
                          self.ack, self.resend_button, self.keys_help, pn.layout.Divider(), self.consensus,
                          pn.layout.Divider(),
                          self.thread, self.comment_box, pn.Row(self.reply_to, self.comment_button, align="end"),
                          self.exports, width=420)
        return pn.Column(self.banner, head, pn.Row(left, right), sizing_mode="stretch_width")

SPEC = PageSpec(slug="vetting", title=TITLE, blurb=BLURB, factory=VettingPage, order=50)
