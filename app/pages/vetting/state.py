"""The vetting page's state without widgets: the campaign and candidate shown (both in the URL), where this
user has been (back, skipped), what the keys mean, and the store reads and writes behind them.

Importable and testable without a browser or a Panel session: give it a store and a user name.
"""
from __future__ import annotations

from dataclasses import dataclass

import param

from astroml_core.vetting import (CampaignInfo, CandidateInfo, CommentInfo, ConsensusRow, VettingStore, VoteInfo,
                                  campaign_bytes, open_store)

__all__ = ["VettingState", "Snapshot", "Unsent"]


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of the campaign's votes: its progress and, for the candidate shown, the consensus,
    the votes and the comment thread (None without a candidate)."""

    progress: dict[str, int]
    row: ConsensusRow | None = None
    votes: tuple[VoteInfo, ...] = ()
    thread: tuple[CommentInfo, ...] = ()


@dataclass(frozen=True)
class Unsent:
    """A vote the busy database refused, kept so that the voter can send it again."""

    candidate: int
    label: str
    confidence: float


class VettingState(param.Parameterized):
    """The campaign and candidate shown, the user's path through the candidates, and the store calls."""

    campaign = param.Integer(default=None, allow_None=True, doc="Campaign id")
    candidate = param.Integer(default=None, allow_None=True, doc="Candidate id shown")

    def __init__(self, store: VettingStore | None = None, user: str | None = None, **params) -> None:
        super().__init__(**params)
        self.store = store or open_store()
        self.user = self.store.user(user)
        self.labels: tuple[str, ...] = ()
        self.kind = ""
        self.shown: CandidateInfo | None = None    # the candidate read for ``candidate``
        self.revision = -1                          # the campaign's revision when last read
        self.unsent: Unsent | None = None
        self._history: list[int] = []
        self._skipped: list[int] = []

    # --- who ------------------------------------------------------------------------------------------
    @property
    def user_name(self) -> str | None:
        """The logged-in user's name, None for a guest."""
        return self.user.name if self.user else None

    @property
    def can_vote(self) -> bool:
        """Whether this user may vote and comment (a vetter or an admin)."""
        return bool(self.user and self.user.can_vote)

    @property
    def is_admin(self) -> bool:
        """Whether this user may export the campaign."""
        return bool(self.user and self.user.role == "admin")

    # --- campaigns and candidates -----------------------------------------------------------------------
    def campaign_options(self) -> dict[str, int]:
        """The campaigns for a picker ("name (n candidates)" → id); the first is chosen when none is."""
        campaigns = self.store.campaigns()
        if campaigns and self.campaign is None:
            self.campaign = campaigns[0].id
        return {f"{c.name} ({c.n_candidates} candidates)": c.id for c in campaigns}

    def open_campaign(self) -> CampaignInfo:
        """Read the campaign chosen, take its labels and kind, and start a fresh path through it."""
        info = self.store.campaign(self.campaign)
        self.labels, self.kind = info.labels, info.kind
        self._history, self._skipped = [], []
        return info

    def open_candidate(self) -> CandidateInfo | None:
        """Read the candidate chosen; when it belongs to another campaign, choose that campaign instead
        (which opens it afresh) and return None."""
        cand = self.store.candidate(self.candidate)
        if cand.campaign_id != self.campaign:
            self.campaign = cand.campaign_id
            return None
        self.shown, self.revision = cand, -1
        return cand

    def advance(self) -> bool:
        """Choose the most informative candidate this user has not voted on nor skipped (the skipped ones
        again once nothing else is left); False when every candidate has this user's vote."""
        if self.candidate is not None:
            self._history.append(self.candidate)
        nxt = self.store.next_candidate(self.campaign, self.user_name, after=self._skipped)
        if nxt is None and self._skipped:
            self._skipped = []
            nxt = self.store.next_candidate(self.campaign, self.user_name)
        self.candidate = nxt.id if nxt else None
        return nxt is not None

    def skip(self) -> bool:
        """Leave the candidate shown for later and choose the next one (as :meth:`advance`)."""
        if self.candidate is not None:
            self._skipped.append(self.candidate)
        return self.advance()

    def back(self) -> None:
        """Choose the candidate shown before this one (to change a vote)."""
        if self._history:
            self.candidate = self._history.pop()

    def key_action(self, key: str) -> tuple[str, str | None] | None:
        """What a key press means: ("vote", label) for 1–9 and y (the model's label), ("skip", None) for n
        or →, ("back", None) for b or ←; None for other keys, for users who may not vote, or with no
        candidate shown."""
        if not self.can_vote or self.shown is None:
            return None
        if key.isdigit() and 1 <= int(key) <= min(9, len(self.labels)):
            return "vote", self.labels[int(key) - 1]
        if key == "y" and self.shown.model_label in self.labels:
            return "vote", self.shown.model_label
        if key in ("n", "ArrowRight"):
            return "skip", None
        if key in ("b", "ArrowLeft"):
            return "back", None
        return None

    # --- reading and writing ----------------------------------------------------------------------------
    def changed(self) -> bool:
        """Whether anyone wrote to the campaign since it was last read (False with no campaign)."""
        return self.campaign is not None and self.store.revision(self.campaign) != self.revision

    def snapshot(self) -> Snapshot:
        """The campaign's progress and the shown candidate's votes and comments, read now."""
        self.revision = self.store.revision(self.campaign)
        progress = self.store.progress(self.campaign, self.user_name)
        if self.shown is None:
            return Snapshot(progress)
        cid = self.shown.id
        return Snapshot(progress, self.store.consensus(self.campaign)[cid], tuple(self.store.votes(cid)),
                        tuple(self.store.thread(cid)))

    def vote(self, cand: CandidateInfo, label: str, confidence: float) -> VoteInfo:
        """Store this user's vote on ``cand`` (the store refuses guests and viewers)."""
        return self.store.vote(self.user_name, cand.id, label, confidence)

    def comment(self, cand: CandidateInfo, text: str, parent: int | None) -> CommentInfo:
        """Store this user's comment on ``cand``, as a reply to comment ``parent`` when given."""
        return self.store.comment(self.user_name, cand.id, text, parent)

    def export(self, suffix: str) -> bytes:
        """The campaign's consensus table as a file's bytes (admins only; the format follows ``suffix``)."""
        return campaign_bytes(self.store, self.campaign, self.user_name, suffix)
