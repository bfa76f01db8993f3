"""Another program holding the SQLite write lock freezes nobody: while it holds it, other sessions keep
answering (HTTP in under a second, a second browser session's clicks in under two), the voter sees
"Database busy, retrying…"; a lock released within the retry window stores the vote exactly once, a lock
held past it tells the voter plainly that the vote was not stored (and nothing is in the database), and
the kept vote is stored once it is sent again."""
from __future__ import annotations

import sqlite3
import threading
import time
import urllib.request

import pytest

from astroml_core.vetting.schema import AuditLog
from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until
from tests.app.test_vetting_page import _campaign, _store, _users, login, open_candidate, shown

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def vetting_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("db-lock-data")
    store = _store(root)
    _users(store)
    proc, url = start_server(root)
    yield url, root, store
    stop_server(proc)
    store.dispose()


class HeldLock:
    """Another program's write transaction on the vetting database (``BEGIN IMMEDIATE``) until ``release()``."""

    def __init__(self, root):
        self.conn = sqlite3.connect(root / "vetting.sqlite", isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.held_at = time.monotonic()

    def release(self) -> None:
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None


class Prober:
    """Keeps asking the server (a page's HTTP GET) from a thread; records each answer's latency."""

    def __init__(self, url: str):
        self.url, self.latencies, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            urllib.request.urlopen(self.url + "/login", timeout=30).read()
            self.latencies.append(time.monotonic() - t0)
            time.sleep(0.2)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return self.latencies


def _skip_answers_within(page, seconds: float) -> float:
    """Press "Skip →" on another session's vetting page and time until it shows the next candidate."""
    before = shown(page, ".vet-title").strip()
    t0 = time.monotonic()
    page.locator(".vet-next button").click()
    wait_until(lambda: shown(page, ".vet-title").strip() not in (before, ""), timeout=seconds,
               what="the other session to answer")
    return time.monotonic() - t0


def _votes_by(store, candidate_id: int, user: str) -> list:
    return [v for v in store.votes(candidate_id) if v.user == user]


def _vote_audits(store, candidate_id: int) -> int:
    from sqlalchemy import func, select

    with store._read() as s:
        return s.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "vote",
                                                                AuditLog.candidate_id == candidate_id))


def test_a_vote_during_a_held_lock_is_stored_once_when_the_lock_goes(vetting_server, browser):
    url, root, store = vetting_server
    cid, ids = _campaign(store)
    voter, other = login(browser, url, "bob"), browser.new_page()
    try:
        open_candidate(voter, url, cid, ids[0])
        open_candidate(other, url, cid, ids[0])              # a guest, looking at the same campaign
        lock = HeldLock(root)
        prober = Prober(url)
        try:
            voter.locator(".vet-vote-1 button").click()      # "1 · real"
            wait_until(lambda: "Database busy, retrying" in text(voter, ".vet-ack"), timeout=10,
                       what="the busy message")
            answers = [_skip_answers_within(other, 2.0) for _ in range(3)]
            assert _votes_by(store, ids[0], "bob") == []
            time.sleep(max(0.0, 5.0 - (time.monotonic() - lock.held_at)))
        finally:
            lock.release()
            latencies = prober.stop()
        print(f"held 5 s: other session's Skip answered in {max(answers):.2f} s at most; "
              f"{len(latencies)} GETs, slowest {max(latencies):.2f} s")
        assert max(latencies) < 1.0 and len(latencies) >= 5
        wait_until(lambda: "Saved: real for cand-0" in text(voter, ".vet-ack"), timeout=20, what="the saved vote")
        assert [v.label for v in _votes_by(store, ids[0], "bob")] == ["real"]
        assert _vote_audits(store, ids[0]) == 1
    finally:
        voter.context.close(), other.close()


def test_a_vote_during_a_lock_held_past_the_retries_is_refused_plainly_and_can_be_sent_again(vetting_server,
                                                                                              browser):
    url, root, store = vetting_server
    cid, ids = _campaign(store)
    voter = login(browser, url, "bob")
    try:
        open_candidate(voter, url, cid, ids[1])
        lock = HeldLock(root)
        prober = Prober(url)
        try:
            voter.locator(".vet-vote-2 button").click()      # "2 · false"
            wait_until(lambda: "Database busy, retrying" in text(voter, ".vet-ack"), timeout=10,
                       what="the busy message")
            wait_until(lambda: "Not saved" in text(voter, ".vet-ack"), timeout=30, what="the refusal")
            refused_after = time.monotonic() - lock.held_at
            ack = text(voter, ".vet-ack")
            assert "the database stayed busy; your vote (false for cand-1) was not stored — try again" in ack
            wait_until(lambda: "The database is busy" in text(voter, ".error-banner"), timeout=5,
                       what="the banner's reason")
            assert voter.locator(".vet-resend button").is_visible()
            assert _votes_by(store, ids[1], "bob") == [] and _vote_audits(store, ids[1]) == 0
        finally:
            lock.release()
            latencies = prober.stop()
        print(f"held past the retries: refused after {refused_after:.1f} s; {len(latencies)} GETs, "
              f"slowest {max(latencies):.2f} s")
        assert 8 < refused_after < 25 and max(latencies) < 1.0
        assert "cand-1" in shown(voter, ".vet-title")          # the candidate stays, for the vote to be sent again
        voter.locator(".vet-resend button").click()
        wait_until(lambda: "Saved: false for cand-1" in text(voter, ".vet-ack"), timeout=20, what="the resent vote")
        assert [v.label for v in _votes_by(store, ids[1], "bob")] == ["false"]
        assert _vote_audits(store, ids[1]) == 1
    finally:
        voter.context.close()
