"""The vetting page's view: the widgets and layout over :class:`VettingState`, and the once-a-second poll
that shows others' votes. A vote or comment is written on a thread of its own (``writes.py``) and is then
either saved or plainly refused ("Not saved"), with a button that sends it again. The preview is a Bokeh
layout (``preview.py``)."""
from __future__ import annotations

import io
import logging
from functools import partial

import panel as pn

from astroml_core.errors import AstroMLError, StoreBusyError, UnknownRecordError
from astroml_core.vetting import CandidateInfo, decode_preview

from ...auth import current_user
from ...components.banner import Banner
from ...components.keyboard import KeyShortcuts
from ...components.locking import every, with_document_lock
from ...components.url_state import copy_link_button, sync_url
from . import text
from .preview import preview_figure
from .state import Unsent, VettingState
from .writes import StoreWriter

__all__ = ["VettingPage"]

log = logging.getLogger(__name__)

POLL_MS = 1000
EXPORTS = (("ECSV", ".ecsv"), ("CSV", ".csv"), ("VOTable", ".xml"))


def _pane(css: str, **options) -> pn.pane.HTML:
    """An empty HTML pane in the page's small type, with the CSS class tests and styles find it by."""
    return pn.pane.HTML("", css_classes=[css], styles={"font-size": "13px"}, margin=(0, 10), **options)


class VettingPage(pn.viewable.Viewer):
    """The vetting page of one session: ``state`` (campaign and candidate, both in the URL, so a link opens
    the same candidate) and the widgets that show and change it."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.state = VettingState(user=current_user())
        self.banner = Banner()
        self.writer = StoreWriter(lambda attempt: setattr(self.ack, "object", text.busy_html(attempt)))
        self._make_widgets()
        self.picker.options = self.state.campaign_options()
        self.picker.param.watch(lambda e: self.state.param.update(campaign=e.new, candidate=None), "value")
        sync_url(self.state, {"campaign": "campaign", "candidate": "candidate"}, on_error=self._bad_link)
        self.state.param.watch(lambda e: self._campaign_changed(), "campaign")
        self.state.param.watch(lambda e: self._candidate_changed(), "candidate")
        self._campaign_changed()
        every(self._poll, POLL_MS)

    def _make_widgets(self) -> None:
        """The panes, buttons and inputs, wired to the page's actions."""
        self.who = pn.pane.HTML(text.who_html(self.state.user), css_classes=["vet-user"], margin=(0, 10))
        self.picker = pn.widgets.Select(label="Campaign", options={}, width=360, css_classes=["vet-campaign"])
        self.progress = _pane("vet-progress")
        self.title = pn.pane.Markdown("### No campaign", css_classes=["vet-title"], margin=(0, 10))
        self.model_info = _pane("vet-model", width=620)
        self.preview = pn.pane.Bokeh(None, css_classes=["vet-preview"])
        self.buttons = pn.FlexBox(css_classes=["vet-buttons"], sizing_mode="stretch_width")
        self.confidence = pn.widgets.FloatSlider(label="How sure (confidence)", start=0.0, end=1.0, step=0.25,
                                                 value=1.0, width=260, css_classes=["vet-confidence"])
        self.back_button = self._button("← Back", self.back, width=90, css_classes=["vet-back"])
        self.next_button = self._button("Skip →", self.skip, width=90, css_classes=["vet-next"])
        self.ack = _pane("vet-ack")
        self.resend_button = self._button("Send the vote again", self.resend, button_type="warning", width=180,
                                          visible=False, css_classes=["vet-resend"])
        self.keys_help = pn.pane.HTML("", styles={"font-size": "12px", "color": "#555"}, margin=(0, 10))
        self.consensus = _pane("vet-consensus", width=400)
        self.thread = _pane("vet-thread", width=400)
        self.comment_box = pn.widgets.TextAreaInput(placeholder="Comment (press c to type here)", height=70, width=380,
                                                    max_length=5000, css_classes=["vet-comment-box"])
        self.reply_to = pn.widgets.Select(label="Reply to", options={"(new thread)": 0}, width=240,
                                          css_classes=["vet-reply-to"])
        self.comment_button = self._button("Comment", self.send_comment, width=110, css_classes=["vet-comment"])
        self.keys = KeyShortcuts()
        self.keys.param.watch(lambda e: with_document_lock(lambda: self._key(e.new)), "press")
        self.exports = pn.Row(*[pn.widgets.FileDownload(callback=(lambda s=suffix: self._export(s)),
                                                        filename=f"campaign{suffix}", label=f"Export {name}",
                                                        color="light", width=125,
                                                        css_classes=[f"vet-export-{suffix[1:]}"])
                                for name, suffix in EXPORTS], visible=self.state.is_admin)
        self.copy_link = copy_link_button()

    @staticmethod
    def _button(label: str, action, **options) -> pn.widgets.Button:
        """A button that calls ``action()`` with the document lock held."""
        button = pn.widgets.Button(label=label, **options)
        button.on_click(lambda e: with_document_lock(action))
        return button

    campaign = property(lambda self: self.state.campaign, doc="The campaign shown (its id).")
    candidate = property(lambda self: self.state.candidate, doc="The candidate shown (its id).")

    # --- campaign and candidate ---------------------------------------------------------------------
    def _read(self, read):
        """``read()``, or None with its error in the banner (a campaign or candidate that is not there)."""
        try:
            return read()
        except AstroMLError as exc:
            self.banner.error(exc)
            return None

    def _bad_link(self, values: dict) -> None:
        """A shared link named a campaign or candidate that cannot be opened: say so."""
        self.banner.error(UnknownRecordError(f"the link's {', '.join(values)} could not be opened"))

    def _campaign_changed(self) -> None:
        """Show the chosen campaign: its model, one button per label, and its first or linked candidate."""
        if self.state.campaign is None:
            self.title.object = text.NO_CAMPAIGN
            return
        info = self._read(self.state.open_campaign)
        if info is None:
            return
        if self.picker.value != info.id:
            self.picker.value = info.id
        self.model_info.object = text.campaign_html(info)
        self._build_buttons()
        if self.state.candidate is None:
            self._advance()
        else:
            self._candidate_changed()

    def _build_buttons(self) -> None:
        """One vote button per label of the campaign (disabled for guests and viewers), and the keys' help."""
        can = self.state.can_vote
        buttons = []
        for k, label in enumerate(self.state.labels):
            key = f"{k + 1} · " if k < 9 else ""
            buttons.append(self._button(f"{key}{label}", partial(self.cast, label), margin=(3, 4),
                                        color="primary" if can else "light", disabled=not can,
                                        css_classes=["vet-vote", f"vet-vote-{k + 1}"]))
        self.buttons.objects = buttons
        self.comment_button.disabled = self.comment_box.disabled = not can
        self.keys_help.object = text.keys_help(can)

    def _candidate_changed(self) -> None:
        """Show the chosen candidate: its name, the model's output, its preview, votes and comments."""
        if self.state.candidate is None:
            return
        cand = self._read(self.state.open_candidate)
        if cand is None:
            return
        self.title.object = text.candidate_title(cand)
        self.model_info.object = text.candidate_html(cand)
        try:
            self.preview.object = preview_figure(self.state.kind, decode_preview(cand.preview), cand.name)
        except Exception as exc:  # a broken preview must not stop the vetting
            log.warning("preview of candidate %s failed: %s", cand.id, exc)
            self.preview.object = None
        self._refresh()

    def _advance(self) -> None:
        """Show the most informative candidate this user has not voted on (nor skipped)."""
        if not self.state.advance():
            self._show_done()

    def skip(self) -> None:
        """Leave this candidate for later."""
        if not self.state.skip():
            self._show_done()

    def _show_done(self) -> None:
        """Every candidate has this user's vote: say so, under the campaign's progress."""
        self.title.object = text.DONE
        self.preview.object = None
        self._refresh()

    def back(self) -> None:
        """The candidate shown before this one (to change a vote)."""
        self.state.back()

    def _key(self, press: str) -> None:
        """Vote, skip or go back for a key press (see :meth:`VettingState.key_action`)."""
        action, label = self.state.key_action(press.split("|")[0]) or (None, None)
        if action == "vote":
            self.cast(label)
        elif action == "skip":
            self.skip()
        elif action == "back":
            self.back()

    # --- writing ------------------------------------------------------------------------------------
    def cast(self, label: str) -> None:
        """Vote ``label`` on the candidate shown; the acknowledgement appears only after the commit."""
        cand = self._writable()
        if cand is None:
            return
        confidence = float(self.confidence.value)
        self.resend_button.visible = False
        self.ack.object = text.saving_html(label)
        self.writer.write(partial(self.state.vote, cand, label, confidence), partial(self._voted, cand),
                          partial(self._vote_failed, Unsent(cand.id, label, confidence), cand))

    def resend(self) -> None:
        """Send again the vote the busy database refused (on its candidate, even if another is shown)."""
        unsent = self.state.unsent
        if unsent is None or self.writer.writing:
            return
        if self.state.shown is None or self.state.shown.id != unsent.candidate:
            self.state.candidate = unsent.candidate
        self.confidence.value = unsent.confidence
        self.cast(unsent.label)

    def send_comment(self) -> None:
        """Post the comment box's text (as a reply when one is chosen); the text stays in the box until stored."""
        cand = self._writable()
        if cand is None:
            return
        words = self.comment_box.value_input or self.comment_box.value or ""  # value_input: typed, not yet blurred
        self.ack.object = text.saving_html()
        self.writer.write(partial(self.state.comment, cand, words, self.reply_to.value or None),
                          self._commented, self._comment_failed)

    def _writable(self) -> CandidateInfo | None:
        """The candidate shown when a vote or comment may be sent now (None: none shown, or still saving)."""
        if self.state.shown is None:
            return None
        if self.writer.writing:
            self.ack.object = text.STILL_SAVING
            return None
        return self.state.shown

    def _voted(self, cand: CandidateInfo, vote) -> None:
        """The vote is stored: acknowledge it and, if its candidate is still shown, move on."""
        self.state.unsent = None
        self.banner.clear()
        self.ack.object = text.saved_vote_html(vote, cand)
        if self.state.shown is not None and self.state.shown.id == cand.id:
            self._advance()
        else:
            self._refresh()

    def _vote_failed(self, unsent: Unsent, cand: CandidateInfo, exc: BaseException) -> None:
        """The vote was refused: show why (the banner first, so it is there when the ack says "Not saved"); a busy
        database's refusal keeps the vote to send again."""
        self.banner.error(exc)
        if isinstance(exc, StoreBusyError):     # kept, for the voter to send again
            self.state.unsent = unsent
            self.resend_button.visible = True
            self.ack.object = text.unsaved_vote_html(unsent.label, cand)
        else:
            self.ack.object = ""

    def _commented(self, comment) -> None:
        """The comment is stored: acknowledge it, empty the box and show it in the thread."""
        self.banner.clear()
        self.ack.object = text.COMMENT_SAVED
        self.comment_box.param.update(value="", value_input="")
        self._refresh()

    def _comment_failed(self, exc: BaseException) -> None:
        """The comment was refused: show why (it stays in the box)."""
        self.ack.object = text.unsaved_comment_html() if isinstance(exc, StoreBusyError) else ""
        self.banner.error(exc)

    def _export(self, suffix: str):
        """The campaign's export as a file for the download button (None, with the error shown, if refused)."""
        data = self._read(partial(self.state.export, suffix))
        return None if data is None else io.BytesIO(data)

    # --- reading ------------------------------------------------------------------------------------
    def _poll(self) -> None:
        """Refresh when anyone wrote to the campaign since the last read (once a second)."""
        try:
            if self.state.changed():
                self._refresh()
        except Exception as exc:  # the database may be briefly away: try again next second
            log.warning("vetting poll failed: %s", exc)

    def _refresh(self) -> None:
        """Progress, consensus, votes and the comment thread of the candidate shown, from the store."""
        if self.state.campaign is None:
            return
        snap = self.state.snapshot()
        self.progress.object = text.progress_html(snap.progress, self.state.user_name)
        if snap.row is None:
            return
        self.consensus.object = text.consensus_html(snap)
        self.thread.object = text.thread_html(snap.thread)
        self.reply_to.options = text.reply_options(snap.thread)

    def __panel__(self):
        """The page: campaign picker and progress on top, the candidate left, voting and comments right."""
        head = pn.Row(self.picker, pn.Column(self.who, self.progress), self.copy_link, align="center")
        left = pn.Column(self.title, self.model_info, self.preview, self.keys, width=640)
        right = pn.Column("#### Your vote", self.buttons, self.confidence, pn.Row(self.back_button, self.next_button),
                          self.ack, self.resend_button, self.keys_help, pn.layout.Divider(), self.consensus,
                          pn.layout.Divider(),
                          self.thread, self.comment_box, pn.Row(self.reply_to, self.comment_button, align="end"),
                          self.exports, width=420)
        return pn.Column(self.banner, head, pn.Row(left, right), sizing_mode="stretch_width")
