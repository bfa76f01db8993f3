"""The vetting store: roles, own votes only, comments as data, active-learning order, migrations, export."""
from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.table import Table
from sqlalchemy import inspect, select

from astroml_core.errors import InvalidVoteError, NotLoggedInError, PermissionDeniedError, UnknownRecordError
from astroml_core.vetting import CandidateIn, VettingStore, campaign_table, encode_preview, write_campaign
from astroml_core.vetting.schema import AuditLog, Vote

HOSTILE = "Robert'); DROP TABLE votes;-- <script>window.__pwned = 1</script><img src=x onerror=alert(1)>"


@pytest.fixture
def store(tmp_path):
    s = VettingStore(f"sqlite:///{tmp_path / 'vet.sqlite'}")
    s.add_user("ann", "ann-password", "admin")
    s.add_user("bob", "bob-password", "vetter")
    s.add_user("cat", "cat-password", "vetter")
    s.add_user("vic", "vic-password", "viewer")
    yield s
    s.dispose()


def _campaign(store, n=6, labels=("real", "false", "unsure")):
    cands = [CandidateIn(f"src{i}", {"file": "demo.fits", "row": i}, score=0.5 + 0.05 * i,
                         uncertainty=[0.1, 0.9, 0.5, 0.7, 0.2, 0.3][i % 6],
                         preview=encode_preview(moment0=np.full((5, 5), i, np.float32)), model_label="real")
             for i in range(n)]
    return store.create_campaign("ann", "HI demo", "hi_source", labels, cands, model_name="hi_unet",
                                 model_version="1", card_sha256="ab" * 32, source="demo.fits")


def test_migrations_create_every_table_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    a, b = VettingStore(url), VettingStore(url)  # the second open finds the schema at head
    tables = set(inspect(a._reader).get_table_names())
    assert {"users", "campaigns", "candidates", "votes", "comments", "audit_log", "alembic_version"} <= tables
    a.dispose(), b.dispose()


def test_passwords_are_hashed_and_checked(store):
    assert store.authenticate("bob", "bob-password").role == "vetter"
    with pytest.raises(NotLoggedInError, match="wrong user name or password"):
        store.authenticate("bob", "bob-passwordX")
    with store._read() as s:
        from astroml_core.vetting.schema import User
        stored = s.scalar(select(User.password_hash).where(User.name == "bob"))
    assert "bob-password" not in stored and stored.startswith("scrypt$")


def test_viewer_and_guest_cannot_write(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    with pytest.raises(PermissionDeniedError, match="viewer"):
        store.vote("vic", cand.id, "real")
    with pytest.raises(PermissionDeniedError, match="viewer"):
        store.comment("vic", cand.id, "looks real")
    for nobody in (None, "", "guest"):
        with pytest.raises(NotLoggedInError):
            store.vote(nobody, cand.id, "real")
    with pytest.raises(PermissionDeniedError, match="admin"):
        store.create_campaign("bob", "mine", "spectrum", ["a", "b"], [CandidateIn("x", {}, 0, 0, b"")])
    assert store.votes(cand.id) == []


def test_a_user_changes_only_their_own_vote(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    bobs = store.vote("bob", cand.id, "real")
    store.vote("bob", cand.id, "false", 0.6)  # changing one's mind updates the one row
    votes = store.votes(cand.id)
    assert [(v.user, v.label, v.confidence) for v in votes] == [("bob", "false", 0.6)]
    with pytest.raises(PermissionDeniedError, match="bob's"):
        store.edit_vote("cat", bobs.id, "real")
    assert store.votes(cand.id)[0].label == "false"
    store.edit_vote("bob", bobs.id, "unsure")
    assert store.votes(cand.id)[0].label == "unsure"
    with store._read() as s:
        history = s.scalars(select(AuditLog.detail).where(AuditLog.action == "vote")).all()
    assert [h["label"] for h in history] == ["real", "false", "unsure"]


def test_bad_votes_are_refused_with_the_reason(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    with pytest.raises(InvalidVoteError, match="not a label"):
        store.vote("bob", cand.id, "maybe")
    with pytest.raises(InvalidVoteError, match="between 0 and 1"):
        store.vote("bob", cand.id, "real", 1.5)
    with pytest.raises(UnknownRecordError, match="no candidate"):
        store.vote("bob", 10_000, "real")
    with pytest.raises(InvalidVoteError, match="empty"):
        store.comment("bob", cand.id, "   ")


def test_hostile_comment_is_stored_verbatim_and_nothing_is_dropped(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    store.vote("bob", cand.id, "real")
    top = store.comment("bob", cand.id, HOSTILE)
    store.comment("cat", cand.id, "reply", parent_id=top.id)
    store.comment("ann", cand.id, "second thread")
    thread = store.thread(cand.id)
    assert [(c.user, c.depth) for c in thread] == [("bob", 0), ("cat", 1), ("ann", 0)]
    assert thread[0].text == HOSTILE
    assert len(store.votes(cand.id)) == 1  # the votes table is still there


def test_next_candidate_is_the_most_uncertain_not_yet_voted(store):
    cid = _campaign(store)
    order = []
    while (c := store.next_candidate(cid, "bob")) is not None:
        order.append(c.uncertainty)
        store.vote("bob", c.id, "real")
    assert order == sorted(order, reverse=True) and len(order) == 6
    assert store.next_candidate(cid, "cat").uncertainty == 0.9  # cat has voted on nothing
    assert store.progress(cid, "bob") == {"candidates": 6, "voted": 6, "settled": 0, "mine": 6, "votes": 6}


def test_revision_grows_with_every_write(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    r0 = store.revision(cid)
    store.vote("bob", cand.id, "real")
    r1 = store.revision(cid)
    store.comment("cat", cand.id, "hm")
    assert r0 < r1 < store.revision(cid)


def test_consensus_majority_then_dawid_skene_from_three_votes(store):
    cid = _campaign(store, labels=("real", "false"))
    cand = store.candidates(cid)
    store.vote("bob", cand[0].id, "real")
    store.vote("cat", cand[0].id, "false")
    store.vote("ann", cand[0].id, "real")
    store.vote("bob", cand[1].id, "false")
    cons = store.consensus(cid)
    assert cons[cand[0].id].counts == {"real": 2, "false": 1}
    assert cons[cand[0].id].majority == "real" and cons[cand[0].id].agreement == pytest.approx(2 / 3)
    assert cons[cand[0].id].ds_label in ("real", "false") and 0.5 <= cons[cand[0].id].ds_probability <= 1
    assert cons[cand[1].id].ds_label is None and cons[cand[1].id].majority == "false"
    assert cons[cand[2].id].n_votes == 0 and cons[cand[2].id].majority is None


def test_export_carries_consensus_and_provenance(store, tmp_path):
    cid = _campaign(store)
    cand = store.candidates(cid)
    for user in ("ann", "bob", "cat"):
        store.vote(user, cand[1].id, "real")
    with pytest.raises(PermissionDeniedError):
        campaign_table(store, cid, "bob")
    for suffix in (".ecsv", ".csv", ".xml"):
        path = write_campaign(store, cid, tmp_path / f"out{suffix}", "ann")
        table = Table.read(path, format={".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".xml": "votable"}[suffix])
        row = table[list(table["candidate_id"]).index(cand[1].id)]
        assert row["n_votes"] == 3 and row["votes_real"] == 3 and str(row["majority"]) == "real"
        assert row["agreement"] == pytest.approx(1.0) and str(row["ds_label"]) == "real"
        assert json.loads(str(row["ref"])) == {"file": "demo.fits", "row": 1}
    meta = Table.read(tmp_path / "out.ecsv").meta
    assert meta["model_name"] == "hi_unet" and meta["card_sha256"] == "ab" * 32 and meta["exported_by"] == "ann"
    assert meta["labels"] == ["real", "false", "unsure"]
    with pytest.raises(InvalidVoteError, match="csv"):
        write_campaign(store, cid, tmp_path / "out.txt", "ann")


def test_removed_user_cannot_log_in_but_votes_keep_their_author(store):
    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    store.vote("cat", cand.id, "real")
    store.remove_user("cat")
    with pytest.raises(NotLoggedInError):
        store.authenticate("cat", "cat-password")
    with pytest.raises(UnknownRecordError):
        store.vote("cat", cand.id, "false")
    assert [v.user for v in store.votes(cand.id)] == ["cat"]
    with store._read() as s:
        assert s.scalar(select(Vote.label)) == "real"


def test_saved_views_are_per_user_and_only_app_paths(store):
    v = store.save_view("vic", "my channel", "/cubes?channel=107&stretch=asinh")  # viewers may keep views
    store.save_view("vic", "my channel", "/cubes?channel=108")                    # same name: replaced
    store.save_view("bob", "spectra", "/spectra?projection=PCA")
    assert [(x.name, x.path) for x in store.views("vic")] == [("my channel", "/cubes?channel=108")]
    assert [x.name for x in store.views("bob")] == ["spectra"] and store.views(None) == []
    for bad in ("javascript:alert(1)", "https://evil.example/", "/cubes?x=<script>", "cubes"):
        with pytest.raises(InvalidVoteError, match="app page"):
            store.save_view("bob", "bad", bad)
    with pytest.raises(NotLoggedInError):
        store.save_view(None, "x", "/cubes")
    with pytest.raises(PermissionDeniedError, match="their own"):
        store.delete_view("bob", v.id)
    store.delete_view("vic", v.id)
    assert store.views("vic") == []


def test_an_old_database_is_upgraded_with_its_data(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from astroml_core.vetting.engine import _MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")                     # the schema as the first release made it
        conn.exec_driver_sql("INSERT INTO users (name, password_hash, role, active, created_at) "
                             "VALUES ('old', 'x', 'vetter', 1, '2026-01-01')")
    engine.dispose()
    store = VettingStore(url)                               # upgrades to head on open
    assert {"saved_views", "login_sessions"} <= set(inspect(store._reader).get_table_names())
    assert store.user("old").role == "vetter"
    store.save_view("old", "v", "/spectra")
    assert [x.name for x in store.views("old")] == ["v"]
    store.dispose()


def test_a_login_session_lives_until_logout_expiry_or_removal(store):
    token = store.start_session("bob")
    assert len(token) >= 43 and store.session_user(token).name == "bob"
    with store._read() as s:
        from astroml_core.vetting.schema import LoginSession

        stored = s.scalar(select(LoginSession.id_hash))
    assert token not in stored                                 # only the id's hash is kept
    store.end_session(token)
    assert store.session_user(token) is None                   # logged out: the id no longer works
    assert store.session_user("made-up") is None and store.session_user(None) is None
    assert store.session_user(store.start_session("cat", lifetime_s=-1)) is None   # expired
    kept = store.start_session("cat")
    store.remove_user("cat")
    assert store.session_user(kept) is None                    # a removed user's sessions end with them
    with pytest.raises(UnknownRecordError):
        store.start_session("nobody")


def test_unknown_names_cost_the_same_password_work_as_known_ones(store):
    import time

    def median_s(name):
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            with pytest.raises(NotLoggedInError, match="wrong user name or password"):
                store.authenticate(name, "not-the-password")
            times.append(time.perf_counter() - t0)
        return sorted(times)[3]

    median_s("nobody")                                         # the first unknown name makes the stand-in hash
    known, unknown = median_s("bob"), median_s("nobody-at-all")
    store.remove_user("vic")
    removed = median_s("vic")
    assert abs(unknown - known) / known < 0.2 and abs(removed - known) / known < 0.2, (known, unknown, removed)


def test_a_new_sqlite_database_is_private(tmp_path):
    import stat

    store = VettingStore(f"sqlite:///{tmp_path / 'sub' / 'new.sqlite'}")
    store.add_user("ann", "ann-password", "admin")             # a write makes the -wal and -shm files too
    for path in (tmp_path / "sub").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    store.dispose()


# --- another program holding SQLite's write lock ---------------------------------------------------------
def _hold_write_lock(store):
    import sqlite3

    conn = sqlite3.connect(store.url.removeprefix("sqlite:///"), check_same_thread=False, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _quick_retries(store):
    """Busy timeout 0.2 s and two retries (the defaults wait about 14 s)."""
    store.busy_timeout_s, store.busy_retry_delays_s = 0.2, (0.05, 0.1)
    store.dispose()                                             # new connections take the new busy timeout


def test_a_write_against_a_held_lock_retries_then_raises_store_busy_and_stores_nothing(store):
    import time

    from astroml_core.errors import StoreBusyError
    from astroml_core.vetting.store import on_busy

    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    _quick_retries(store)
    held = _hold_write_lock(store)
    retries = []
    try:
        t0 = time.perf_counter()
        with on_busy(lambda attempt, wait_s: retries.append((attempt, wait_s))):
            with pytest.raises(StoreBusyError, match="stayed busy .* nothing was stored: try again"):
                store.vote("bob", cand.id, "real")
        elapsed = time.perf_counter() - t0
    finally:
        held.rollback()
        held.close()
    assert retries == [(1, 0.05), (2, 0.1)]
    assert 3 * 0.2 <= elapsed < 3                               # three tries of 0.2 s, bounded
    assert store.votes(cand.id) == []
    with store._read() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "vote")) is None


def test_a_write_stored_once_when_the_lock_goes_during_its_retries(store):
    import threading
    import time

    cid = _campaign(store)
    cand = store.candidates(cid)[0]
    store.busy_timeout_s, store.busy_retry_delays_s = 0.2, (0.1, 0.2, 0.4, 0.8)
    store.dispose()
    held = _hold_write_lock(store)
    threading.Timer(0.7, held.rollback).start()
    t0 = time.perf_counter()
    vote = store.vote("bob", cand.id, "false", 0.5)
    assert 0.6 < time.perf_counter() - t0 < 4
    held.close()
    assert [(v.user, v.label, v.confidence) for v in store.votes(cand.id)] == [("bob", "false", 0.5)]
    assert vote.id == store.votes(cand.id)[0].id
    with store._read() as s:
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "vote")).all()) == 1


def test_the_default_busy_wait_is_bounded():
    from astroml_core.vetting.store import BUSY_RETRY_DELAYS_S, BUSY_TIMEOUT_S

    worst = BUSY_TIMEOUT_S * (len(BUSY_RETRY_DELAYS_S) + 1) + sum(BUSY_RETRY_DELAYS_S)
    assert BUSY_TIMEOUT_S <= 3 and 8 <= worst <= 16
