"""The vetting store: users, campaigns, votes and comments in one database that every server process shares.

Every write checks who is writing (a viewer writes nothing; a user changes only their own votes), runs in
one transaction with its audit-log entry, and returns only after the commit: an acknowledged vote is on
disk. Nothing lives only in memory, so several processes or hosts on one database agree, and an open page
learns of others' votes by polling :meth:`VettingStore.revision`.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from sqlalchemy import delete, event, func, make_url, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InvalidVoteError, NotLoggedInError, PermissionDeniedError, StoreBusyError, UnknownRecordError
from .consensus import dawid_skene, majority
from .engine import engines, migrate, public_url
from .passwords import check_password, hash_password
from .schema import (KINDS, ROLES, AuditLog, Campaign, Candidate, Comment, LoginSession, SavedView, User, Vote,
                     utcnow)

__all__ = ["VettingStore", "CandidateIn", "CandidateInfo", "CampaignInfo", "VoteInfo", "CommentInfo",
           "ConsensusRow", "UserInfo", "ViewInfo", "open_store", "MAX_COMMENT_CHARS", "MIN_DS_VOTES", "on_busy",
           "BUSY_TIMEOUT_S", "BUSY_RETRY_DELAYS_S"]

MAX_COMMENT_CHARS = 5000
MIN_DS_VOTES = 3
_VIEW_PATH = re.compile(r"^/[a-z_]*(\?[^\s<>\"']*)?$")  # an app page and its query: never a scheme or markup
_DUMMY_HASH: list[str] = []  # a hash of nothing, checked for unknown names so that they cost what known ones do
_DUMMY_LOCK = threading.Lock()


@dataclass(frozen=True)
class UserInfo:
    """Who is logged in and what they may do."""

    id: int
    name: str
    role: str

    @property
    def can_vote(self) -> bool:
        """Admins and vetters vote and comment; viewers only read."""
        return self.role in ("admin", "vetter")


@dataclass(frozen=True)
class CandidateIn:
    """A candidate to add to a campaign: its name, data reference, model output and preview bytes."""

    name: str
    ref: dict
    score: float
    uncertainty: float
    preview: bytes
    model_label: str = ""
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign and how far it has got."""

    id: int
    name: str
    kind: str
    labels: tuple[str, ...]
    description: str
    source: str
    model_name: str
    model_version: str
    card_sha256: str
    n_candidates: int
    n_votes: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CandidateInfo:
    """A candidate as the vetting page shows it (the preview is npz bytes; see ``previews``)."""

    id: int
    campaign_id: int
    name: str
    ref: dict
    model_label: str
    score: float
    uncertainty: float
    preview: bytes
    meta: dict


@dataclass(frozen=True)
class VoteInfo:
    """One stored vote."""

    id: int
    candidate_id: int
    user: str
    label: str
    confidence: float
    updated_at: datetime


@dataclass(frozen=True)
class CommentInfo:
    """One stored comment; ``depth`` is its place in the thread (0: top level)."""

    id: int
    candidate_id: int
    user: str
    parent_id: int | None
    text: str
    created_at: datetime
    depth: int


@dataclass(frozen=True)
class ConsensusRow:
    """A candidate's consensus: vote counts per label, the majority and (≥ 3 votes) Dawid–Skene's label."""

    candidate_id: int
    counts: dict[str, int]
    n_votes: int
    majority: str | None
    agreement: float
    ds_label: str | None
    ds_probability: float | None


@dataclass(frozen=True)
class ViewInfo:
    """A user's saved view: its name and the app path (page and query string) it reopens."""

    id: int
    name: str
    path: str
    created_at: datetime


def _user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.name, user.role)


def _candidate_info(c: Candidate) -> CandidateInfo:
    return CandidateInfo(c.id, c.campaign_id, c.name, dict(c.ref), c.model_label, float(c.score),
                         float(c.uncertainty), bytes(c.preview), dict(c.meta or {}))


# A write waits this long for another writer's lock (SQLite's busy timeout), then retries after each delay:
# about 14 s in all before StoreBusyError, instead of one silent 30 s wait.
BUSY_TIMEOUT_S = 2.0
BUSY_RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0)
_ON_BUSY: ContextVar = ContextVar("astroml_vetting_on_busy", default=None)


@contextmanager
def on_busy(callback) -> Iterator[None]:
    """Within this block (this thread or task), call ``callback(attempt, retry_in_s)`` each time a write finds
    the database locked by another writer and is about to retry (the app shows "busy, retrying")."""
    token = _ON_BUSY.set(callback)
    try:
        yield
    finally:
        _ON_BUSY.reset(token)


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


class VettingStore:
    """All reads and writes of the vetting database at ``url`` (any SQLAlchemy URL; schema migrated)."""

    def __init__(self, url: str):
        self.url = url
        _create_private_sqlite(url)
        self.busy_timeout_s, self.busy_retry_delays_s = BUSY_TIMEOUT_S, BUSY_RETRY_DELAYS_S
        self._reader, self._writer = engines(url)
        migrate(self._writer)                       # at start-up, with engine.py's long busy wait
        self._limit_busy_wait(self._writer)         # then each write try waits busy_timeout_s, retried
        self._read_session = sessionmaker(self._reader, expire_on_commit=False)
        self._write_session = sessionmaker(self._writer, expire_on_commit=False)

    @property
    def public_url(self) -> str:
        """The database URL without its password."""
        return public_url(self.url)

    def dispose(self) -> None:
        """Close every pooled connection (tests and forked processes)."""
        self._reader.dispose()
        self._writer.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._read_session() as s, s.begin():
            yield s

    def _limit_busy_wait(self, engine) -> None:
        """SQLite: a writer waits ``busy_timeout_s`` for another's lock per try (not engine.py's 30 s)."""
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _busy_timeout(dbapi_connection, _record):       # runs after engine.py's pragmas
            cur = dbapi_connection.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            cur.close()

        engine.dispose()                # the connection the migration pooled takes the new timeout too

    def _begin_write(self) -> Session:
        """A session inside a write transaction; on SQLite it holds the write lock (``BEGIN IMMEDIATE``), taken
        with bounded retries: StoreBusyError, with nothing written, when another writer keeps it."""
        delays = tuple(self.busy_retry_delays_s)
        started = time.monotonic()
        for attempt in range(len(delays) + 1):
            s = self._write_session()
            s.begin()
            try:
                s.connection()              # BEGIN (IMMEDIATE): waits up to busy_timeout_s for the lock
                return s
            except OperationalError as exc:
                s.close()
                if not _is_busy(exc):
                    raise
            if attempt < len(delays):
                callback = _ON_BUSY.get()
                if callback is not None:
                    callback(attempt + 1, delays[attempt])
                time.sleep(delays[attempt])
        raise StoreBusyError(f"the vetting database stayed busy for {time.monotonic() - started:.0f} s (another "
                             "program holds its write lock); nothing was stored: try again")

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction, committed on leaving the block (see :meth:`_begin_write` for a locked
        database); a lock lost mid-way (a rollback-journal database) is StoreBusyError too, never a raw error."""
        s = self._begin_write()
        with s:
            try:
                with s.get_transaction():
                    yield s
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
                raise StoreBusyError("the vetting database was busy (another program holds its write lock); "
                                     "nothing was stored: try again") from exc

    # -- users -----------------------------------------------------------------------------------------
    @staticmethod
    def _user(s: Session, name: str) -> User:
        user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
        if user is None:
            raise UnknownRecordError(f"no active user called {name!r}")
        return user

    @staticmethod
    def _with_role(s: Session, name: str | None, roles: tuple[str, ...], to: str, denied: str) -> User:
        """The active user ``name`` if their role is one of ``roles``; else the typed refusal."""
        if not name or name == "guest":
            raise NotLoggedInError(f"log in to {to}")
        user = VettingStore._user(s, name)
        if user.role not in roles:
            raise PermissionDeniedError(denied.format(name=name, role=user.role))
        return user

    @staticmethod
    def _writer_user(s: Session, name: str | None) -> User:
        return VettingStore._with_role(s, name, ("admin", "vetter"), "vote or comment (viewing needs no account)",
                                       "{name} is a viewer: viewers can read the campaign but not vote or comment")

    @staticmethod
    def _admin(s: Session, name: str | None) -> User:
        return VettingStore._with_role(s, name, ("admin",), "create or export campaigns (as an admin)",
                                       "only an admin can do this; {name} is a {role}")

    def require_admin(self, name: str | None) -> UserInfo:
        """The admin called ``name``; NotLoggedInError or PermissionDeniedError for anyone else."""
        with self._read() as s:
            return _user_info(self._admin(s, name))

    def add_user(self, name: str, password: str, role: str = "vetter") -> UserInfo:
        """Create a user (or reactivate a removed one) with a hashed password."""
        name = name.strip()
        if role not in ROLES:
            raise InvalidVoteError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name or len(name) > 64 or name == "guest":
            raise InvalidVoteError("a user name is 1–64 characters and not 'guest'")
        if len(password) < 8:
            raise InvalidVoteError("a password needs at least 8 characters")
        with self._write() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is not None and user.active:
                raise InvalidVoteError(f"a user called {name!r} exists; use 'astroml users role' to change it")
            if user is None:
                user = User(name=name, password_hash="", role=role, active=True, created_at=utcnow())
                s.add(user)
            user.password_hash, user.role, user.active = hash_password(password), role, True
            s.flush()
            s.add(AuditLog(user_id=user.id, action="add_user", detail={"role": role}, at=utcnow()))
            return _user_info(user)

    def remove_user(self, name: str) -> None:
        """Deactivate a user: they can no longer log in; their votes keep their name."""
        with self._write() as s:
            user = self._user(s, name)
            user.active = False
            s.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
            s.add(AuditLog(user_id=user.id, action="remove_user", detail={}, at=utcnow()))

    def set_role(self, name: str, role: str) -> UserInfo:
        """Change a user's role (admin, vetter, viewer)."""
        if role not in ROLES:
            raise InvalidVoteError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self._write() as s:
            user = self._user(s, name)
            user.role = role
            s.add(AuditLog(user_id=user.id, action="set_role", detail={"role": role}, at=utcnow()))
            return _user_info(user)

    def users(self) -> list[UserInfo]:
        """Every active user."""
        with self._read() as s:
            return [_user_info(u) for u in s.scalars(select(User).where(User.active.is_(True)).order_by(User.name))]

    def authenticate(self, name: str, password: str) -> UserInfo:
        """The user if ``password`` is theirs, else NotLoggedInError (same message for either mistake).

        An unknown or removed name costs the same scrypt work as a known one, so the answer's timing
        does not tell which names exist.
        """
        with self._read() as s:
            user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
            stored = user.password_hash if user is not None else _dummy_hash()
        if not check_password(password, stored) or user is None:
            raise NotLoggedInError("wrong user name or password")
        return _user_info(user)

    # -- login sessions --------------------------------------------------------------------------------
    def start_session(self, name: str, *, lifetime_s: float = 86400.0) -> str:
        """A new login session for the active user ``name``: returns its random id (43 URL-safe characters)
        for the signed cookie; the database keeps only the id's SHA-256. Expired sessions are purged."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._write() as s:
            user = self._user(s, name)
            s.execute(delete(LoginSession).where(LoginSession.expires_at < now))
            s.add(LoginSession(id_hash=_session_hash(token), user_id=user.id, created_at=now,
                               expires_at=now + timedelta(seconds=lifetime_s)))
        return token

    def session_user(self, token: str | None) -> UserInfo | None:
        """The active user whose unexpired session id is ``token``, else None (logged out, expired, removed)."""
        if not token:
            return None
        with self._read() as s:
            row = s.execute(select(User, LoginSession.expires_at).join(LoginSession, LoginSession.user_id == User.id)
                            .where(LoginSession.id_hash == _session_hash(token), User.active.is_(True))).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
        return _user_info(row.User) if expires > utcnow() else None

    def end_session(self, token: str | None) -> None:
        """Revoke the session ``token`` (logging out); unknown ids are ignored."""
        if token:
            with self._write() as s:
                s.execute(delete(LoginSession).where(LoginSession.id_hash == _session_hash(token)))

    def user(self, name: str | None) -> UserInfo | None:
        """The active user called ``name``, or None (guests, unknown names)."""
        if not name:
            return None
        with self._read() as s:
            user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
            return _user_info(user) if user else None

    # -- saved views -----------------------------------------------------------------------------------
    def save_view(self, user: str | None, name: str, path: str) -> ViewInfo:
        """Keep ``path`` (an app page with its query string) under ``name`` for ``user`` (any role);
        saving a name again replaces it."""
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidVoteError("a view name is 1–100 characters")
        if len(path) > 4000 or not _VIEW_PATH.match(path):
            raise InvalidVoteError("a saved view is an app page and its settings, such as /cubes?channel=107")
        with self._write() as s:
            owner = self._with_role(s, user, ROLES, "save views", "")
            view = s.scalar(select(SavedView).where(SavedView.user_id == owner.id, SavedView.name == name))
            if view is None:
                view = SavedView(user_id=owner.id, name=name, path=path, created_at=utcnow())
                s.add(view)
            view.path = path
            s.flush()
            return ViewInfo(view.id, view.name, view.path, view.created_at)

    def views(self, user: str | None) -> list[ViewInfo]:
        """``user``'s saved views, newest first (none for guests)."""
        with self._read() as s:
            rows = s.scalars(select(SavedView).join(User, User.id == SavedView.user_id)
                             .where(User.name == (user or ""), User.active.is_(True)).order_by(SavedView.id.desc()))
            return [ViewInfo(v.id, v.name, v.path, v.created_at) for v in rows]

    def delete_view(self, user: str | None, view_id: int) -> None:
        """Delete one of ``user``'s own saved views."""
        with self._write() as s:
            owner = self._with_role(s, user, ROLES, "delete views", "")
            view = s.get(SavedView, view_id)
            if view is None:
                raise UnknownRecordError(f"no saved view with id {view_id}")
            if view.user_id != owner.id:
                raise PermissionDeniedError("a user can delete only their own saved views")
            s.delete(view)

    # -- campaigns -------------------------------------------------------------------------------------
    def create_campaign(self, by: str, name: str, kind: str, labels: Sequence[str],
                        candidates: Sequence[CandidateIn], *, description: str = "", source: str = "",
                        model_name: str = "", model_version: str = "", card_sha256: str = "") -> int:
        """A new campaign holding ``candidates`` (admins only); returns its id."""
        labels = [str(x).strip() for x in labels]
        if kind not in KINDS:
            raise InvalidVoteError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if len(labels) < 2 or len(set(labels)) != len(labels) or any(not x or len(x) > 64 for x in labels):
            raise InvalidVoteError("a campaign needs at least two distinct labels of 1–64 characters")
        if not candidates:
            raise InvalidVoteError("a campaign needs at least one candidate")
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidVoteError("a campaign name is 1–200 characters")
        with self._write() as s:
            admin = self._admin(s, by)
            if s.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
                raise InvalidVoteError(f"a campaign called {name!r} exists; choose another name")
            campaign = Campaign(name=name, kind=kind, labels=labels, description=description, source=source,
                                model_name=model_name, model_version=model_version, card_sha256=card_sha256,
                                created_by=admin.id, created_at=utcnow())
            s.add(campaign)
            s.flush()
            s.add_all([Candidate(campaign_id=campaign.id, name=c.name[:200], ref=c.ref, model_label=c.model_label,
                                 score=float(c.score), uncertainty=float(c.uncertainty), preview=c.preview,
                                 meta=c.meta) for c in candidates])
            s.add(AuditLog(user_id=admin.id, action="create_campaign", campaign_id=campaign.id,
                           detail={"candidates": len(candidates)}, at=utcnow()))
            return campaign.id

    def campaigns(self, campaign_id: int | None = None) -> list[CampaignInfo]:
        """Every campaign (or only ``campaign_id``), newest first, with candidate and vote counts."""
        only = (lambda q, col: q.where(col == campaign_id)) if campaign_id is not None else (lambda q, col: q)
        with self._read() as s:
            n_cand = dict(s.execute(only(select(Candidate.campaign_id, func.count()), Candidate.campaign_id)
                                    .group_by(Candidate.campaign_id)).all())
            n_votes = dict(s.execute(only(select(Candidate.campaign_id, func.count(Vote.id))
                                          .join(Vote, Vote.candidate_id == Candidate.id), Candidate.campaign_id)
                                     .group_by(Candidate.campaign_id)).all())
            rows = s.execute(only(select(Campaign, User.name).join(User, User.id == Campaign.created_by), Campaign.id)
                             .order_by(Campaign.id.desc())).all()
            return [CampaignInfo(c.id, c.name, c.kind, tuple(c.labels), c.description, c.source, c.model_name,
                                 c.model_version, c.card_sha256, n_cand.get(c.id, 0), n_votes.get(c.id, 0), by,
                                 c.created_at) for c, by in rows]

    def campaign(self, campaign_id: int) -> CampaignInfo:
        """One campaign by id."""
        found = self.campaigns(campaign_id)
        if not found:
            raise UnknownRecordError(f"no campaign with id {campaign_id}")
        return found[0]

    def candidates(self, campaign_id: int) -> list[CandidateInfo]:
        """Every candidate of a campaign, in the order they were added."""
        with self._read() as s:
            return [_candidate_info(c) for c in
                    s.scalars(select(Candidate).where(Candidate.campaign_id == campaign_id).order_by(Candidate.id))]

    def candidate(self, candidate_id: int) -> CandidateInfo:
        """One candidate by id."""
        with self._read() as s:
            c = s.get(Candidate, candidate_id)
            if c is None:
                raise UnknownRecordError(f"no candidate with id {candidate_id}")
            return _candidate_info(c)

    def next_candidate(self, campaign_id: int, user: str | None, *, after: Sequence[int] = ()) -> CandidateInfo | None:
        """The most informative candidate ``user`` has not voted on (and not in ``after``), or None when done.

        Most informative first (active learning): the model's highest uncertainty, then the fewest votes,
        so that many vetters spread over the uncertain candidates before piling onto the same one.
        """
        with self._read() as s:
            user_id = s.scalar(select(User.id).where(User.name == (user or "")))
            mine = select(Vote.candidate_id).where(Vote.user_id == (user_id or -1))
            n_votes = (select(func.count(Vote.id)).where(Vote.candidate_id == Candidate.id)
                       .correlate(Candidate).scalar_subquery())
            query = (select(Candidate).where(Candidate.campaign_id == campaign_id, Candidate.id.not_in(mine))
                     .order_by(Candidate.uncertainty.desc(), n_votes, Candidate.id).limit(1))
            if after:
                query = query.where(Candidate.id.not_in(list(after)))
            c = s.scalar(query)
            return _candidate_info(c) if c else None

    # -- votes and comments ----------------------------------------------------------------------------
    def vote(self, user: str | None, candidate_id: int, label: str, confidence: float = 1.0) -> VoteInfo:
        """Store ``user``'s vote on a candidate (replacing their earlier one); returns after the commit."""
        if not 0.0 <= float(confidence) <= 1.0:
            raise InvalidVoteError(f"confidence is between 0 and 1, not {confidence}")
        for _ in range(2):
            try:
                return self._vote_once(user, candidate_id, label, float(confidence))
            except IntegrityError:  # two tabs of one user inserted at once: the second becomes an update
                pass
        return self._vote_once(user, candidate_id, label, float(confidence))

    def _vote_once(self, user: str | None, candidate_id: int, label: str, confidence: float) -> VoteInfo:
        with self._write() as s:
            voter = self._writer_user(s, user)
            cand = s.get(Candidate, candidate_id)
            if cand is None:
                raise UnknownRecordError(f"no candidate with id {candidate_id}")
            labels = s.scalar(select(Campaign.labels).where(Campaign.id == cand.campaign_id))
            if label not in labels:
                raise InvalidVoteError(f"{label!r} is not a label of this campaign ({', '.join(labels)})")
            vote = s.scalar(select(Vote).where(Vote.candidate_id == candidate_id, Vote.user_id == voter.id))
            now = utcnow()
            before = vote.label if vote else None
            if vote is None:
                vote = Vote(candidate_id=candidate_id, user_id=voter.id, label=label, confidence=confidence,
                            created_at=now, updated_at=now)
                s.add(vote)
            else:
                vote.label, vote.confidence, vote.updated_at = label, confidence, now
            s.flush()
            s.add(AuditLog(user_id=voter.id, action="vote", campaign_id=cand.campaign_id, candidate_id=candidate_id,
                           detail={"label": label, "confidence": confidence, "before": before}, at=now))
            return VoteInfo(vote.id, candidate_id, voter.name, label, confidence, now)

    def edit_vote(self, user: str | None, vote_id: int, label: str, confidence: float = 1.0) -> VoteInfo:
        """Change the vote ``vote_id``, which must be ``user``'s own."""
        with self._read() as s:
            row = s.execute(select(Vote.candidate_id, User.name).join(User, User.id == Vote.user_id)
                            .where(Vote.id == vote_id)).first()
        if row is None:
            raise UnknownRecordError(f"no vote with id {vote_id}")
        if row.name != user:
            raise PermissionDeniedError(f"vote {vote_id} is {row.name}'s; a user can change only their own votes")
        return self.vote(user, row.candidate_id, label, confidence)

    def comment(self, user: str | None, candidate_id: int, text: str, parent_id: int | None = None) -> CommentInfo:
        """Store a comment exactly as typed (it is data, never markup or SQL); replies name their parent."""
        if not text.strip():
            raise InvalidVoteError("an empty comment says nothing; type something first")
        if len(text) > MAX_COMMENT_CHARS:
            raise InvalidVoteError(f"a comment is at most {MAX_COMMENT_CHARS} characters, not {len(text)}")
        with self._write() as s:
            author = self._writer_user(s, user)
            cand = s.get(Candidate, candidate_id)
            if cand is None:
                raise UnknownRecordError(f"no candidate with id {candidate_id}")
            if parent_id is not None:
                parent = s.get(Comment, parent_id)
                if parent is None or parent.candidate_id != candidate_id:
                    raise UnknownRecordError(f"no comment {parent_id} on this candidate to reply to")
            now = utcnow()
            row = Comment(candidate_id=candidate_id, user_id=author.id, parent_id=parent_id, text=text, created_at=now)
            s.add(row)
            s.flush()
            s.add(AuditLog(user_id=author.id, action="comment", campaign_id=cand.campaign_id,
                           candidate_id=candidate_id, detail={"comment_id": row.id}, at=now))
            return CommentInfo(row.id, candidate_id, author.name, parent_id, text, now, 0)

    def votes(self, candidate_id: int) -> list[VoteInfo]:
        """Every vote on a candidate, oldest first."""
        with self._read() as s:
            rows = s.execute(select(Vote, User.name).join(User, User.id == Vote.user_id)
                             .where(Vote.candidate_id == candidate_id).order_by(Vote.id)).all()
            return [VoteInfo(v.id, v.candidate_id, name, v.label, v.confidence, v.updated_at) for v, name in rows]

    def thread(self, candidate_id: int) -> list[CommentInfo]:
        """A candidate's comments in reading order: each reply right after its parent, indented by depth."""
        with self._read() as s:
            rows = s.execute(select(Comment, User.name).join(User, User.id == Comment.user_id)
                             .where(Comment.candidate_id == candidate_id).order_by(Comment.id)).all()
        children: dict[int | None, list] = {}
        for c, name in rows:
            children.setdefault(c.parent_id, []).append((c, name))
        out: list[CommentInfo] = []

        def walk(parent: int | None, depth: int) -> None:
            for c, name in children.get(parent, []):
                out.append(CommentInfo(c.id, c.candidate_id, name, c.parent_id, c.text, c.created_at, depth))
                walk(c.id, depth + 1)

        walk(None, 0)
        return out

    # -- progress and consensus ------------------------------------------------------------------------
    def revision(self, campaign_id: int) -> int:
        """A number that grows with every write to the campaign (poll it to learn of others' votes)."""
        with self._read() as s:
            return int(s.scalar(select(func.max(AuditLog.id)).where(AuditLog.campaign_id == campaign_id)) or 0)

    def progress(self, campaign_id: int, user: str | None = None) -> dict[str, int]:
        """Candidates in all, with any vote, with ≥ 3 votes, and voted on by ``user``."""
        with self._read() as s:
            per = dict(s.execute(select(Vote.candidate_id, func.count(Vote.id))
                                 .join(Candidate, Candidate.id == Vote.candidate_id)
                                 .where(Candidate.campaign_id == campaign_id).group_by(Vote.candidate_id)).all())
            total = s.scalar(select(func.count(Candidate.id)).where(Candidate.campaign_id == campaign_id)) or 0
            mine = s.scalar(select(func.count(Vote.id)).join(Candidate, Candidate.id == Vote.candidate_id)
                            .join(User, User.id == Vote.user_id)
                            .where(Candidate.campaign_id == campaign_id, User.name == (user or ""))) or 0
        return {"candidates": int(total), "voted": len(per), "settled": sum(n >= MIN_DS_VOTES for n in per.values()),
                "mine": int(mine), "votes": int(sum(per.values()))}

    def consensus(self, campaign_id: int) -> dict[int, ConsensusRow]:
        """Each candidate's counts, majority and (with ≥ 3 votes) Dawid–Skene label over the whole campaign."""
        with self._read() as s:
            labels = s.scalar(select(Campaign.labels).where(Campaign.id == campaign_id))
            if labels is None:
                raise UnknownRecordError(f"no campaign with id {campaign_id}")
            ids = list(s.scalars(select(Candidate.id).where(Candidate.campaign_id == campaign_id).order_by(Candidate.id)))
            votes = s.execute(select(Vote.candidate_id, Vote.user_id, Vote.label)
                              .join(Candidate, Candidate.id == Vote.candidate_id)
                              .where(Candidate.campaign_id == campaign_id)).all()
        index = {cid: i for i, cid in enumerate(ids)}
        lab = {name: k for k, name in enumerate(labels)}
        voters = {uid: j for j, uid in enumerate(sorted({v.user_id for v in votes}))}
        votes = [v for v in votes if v.label in lab]
        items = np.array([index[v.candidate_id] for v in votes], int)
        who = np.array([voters[v.user_id] for v in votes], int)
        what = np.array([lab[v.label] for v in votes], int)
        maj = majority(items, what, len(ids), len(labels))
        ds = dawid_skene(items, who, what, len(ids), len(labels))
        counts = np.zeros((len(ids), len(labels)), int)
        np.add.at(counts, (items, what), 1)
        out = {}
        for cid, i in index.items():
            n = int(counts[i].sum())
            settled = n >= MIN_DS_VOTES
            out[cid] = ConsensusRow(cid, {name: int(counts[i, k]) for name, k in lab.items()}, n,
                                    labels[maj.label[i]] if n else None, float(maj.probability[i]),
                                    labels[ds.label[i]] if settled else None,
                                    float(ds.probability[i]) if settled else None)
        return out


def _session_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _dummy_hash() -> str:
    with _DUMMY_LOCK:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
        return _DUMMY_HASH[0]


def _create_private_sqlite(url: str) -> None:
    """Create a new SQLite database file with mode 600 (SQLite gives its -wal and -shm files the same mode);
    other URLs, in-memory databases and existing files are left as they are."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


_STORES: dict[str, VettingStore] = {}
_LOCK = threading.Lock()


def open_store(url: str | None = None) -> VettingStore:
    """The process's store for ``url`` (default: the configured ``ASTROML_VETTING_DB``), made once."""
    if url is None:
        from ..config import settings

        url = settings().vetting_db
    with _LOCK:
        if url not in _STORES:
            _STORES[url] = VettingStore(url)
        return _STORES[url]
