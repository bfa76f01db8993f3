"""The vetting page's state and texts without a browser: which candidate comes next, skip and back, what
each key means for whom, the consensus snapshot; then the page headless (keys, a busy database's refused
vote sent again, the admin's export)."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.errors import StoreBusyError
from astroml_core.vetting import CandidateIn, VettingStore, encode_preview


@pytest.fixture
def store(tmp_path) -> VettingStore:
    s = VettingStore(f"sqlite:///{tmp_path / 'vetting.sqlite'}")
    for name, role in (("ann", "admin"), ("bob", "vetter"), ("vic", "viewer")):
        s.add_user(name, f"{name}-password", role)
    return s


def _campaign(store: VettingStore, n: int = 4, name: str = "c") -> list[int]:
    """A spectrum campaign of ``n`` candidates, cand-0 the most uncertain; their ids in that order."""
    wave = np.linspace(3800, 9200, 50)
    cands = [CandidateIn(f"cand-{i}", {"row": i}, score=0.6, uncertainty=1.0 - 0.1 * i, model_label="false",
                         preview=encode_preview(wavelength=wave, flux=np.sin(wave / 300 + i))) for i in range(n)]
    cid = store.create_campaign("ann", name, "spectrum", ["real", "false", "unsure"], cands)
    return [c.id for c in sorted(store.candidates(cid), key=lambda c: -c.uncertainty)]


def _state(store, user):
    from app.pages.vetting import VettingState

    state = VettingState(store, user)
    state.campaign_options()
    state.open_campaign()
    return state


def test_the_state_walks_most_uncertain_first_skips_and_goes_back(store):
    ids = _campaign(store)
    state = _state(store, "bob")
    assert state.labels == ("real", "false", "unsure") and state.kind == "spectrum" and state.can_vote
    assert state.advance() and state.candidate == ids[0]
    assert state.skip() and state.candidate == ids[1]
    state.vote(state.open_candidate(), "real", 0.5)
    assert state.advance() and state.candidate == ids[2]             # voted on ids[1], skipped ids[0]
    state.back()
    assert state.candidate == ids[1]
    for cid in ids[2:]:
        store.vote("bob", cid, "false")
    assert state.advance() and state.candidate == ids[0]             # only the skipped one is left


def test_when_every_candidate_has_a_vote_the_state_says_so(store):
    ids = _campaign(store, n=2)
    state = _state(store, "ann")
    for cid in ids:
        state.candidate = cid
        state.vote(state.open_candidate(), "unsure", 1.0)
    assert state.advance() is False and state.candidate is None


def test_keys_mean_votes_skip_and_back_only_for_voters(store):
    ids = _campaign(store)
    bob, vic = _state(store, "bob"), _state(store, "vic")
    for state in (bob, vic):
        state.candidate = ids[0]
        state.open_candidate()
    assert bob.key_action("2") == ("vote", "false") and bob.key_action("y") == ("vote", "false")
    assert bob.key_action("ArrowRight") == ("skip", None) and bob.key_action("b") == ("back", None)
    assert bob.key_action("4") is None and bob.key_action("x") is None
    assert vic.key_action("1") is None and not vic.can_vote and not vic.is_admin
    assert _state(store, None).user_name is None


def test_a_candidate_of_another_campaign_switches_the_campaign(store):
    first = store.candidate(_campaign(store, name="first")[0]).campaign_id
    other = _campaign(store, name="second")
    state = _state(store, "bob")
    state.campaign = first
    state.candidate = other[1]
    assert state.open_candidate() is None and state.shown is None
    assert state.campaign == store.candidate(other[1]).campaign_id != first


def test_the_snapshot_counts_votes_and_threads_comments(store):
    from app.pages.vetting.text import consensus_html, progress_html, reply_options, thread_html

    ids = _campaign(store)
    state = _state(store, "bob")
    state.candidate = ids[0]
    cand = state.open_candidate()
    assert state.changed()
    state.vote(cand, "real", 1.0)
    _state(store, "ann").vote(cand, "real", 1.0)
    top = state.comment(cand, "<b>looks real</b>", None)
    state.comment(cand, "agreed", top.id)
    snap = state.snapshot()
    assert not state.changed()
    assert snap.progress["voted"] == 1 and snap.progress["mine"] == 1 and snap.row.n_votes == 2
    assert snap.row.majority == "real" and [v.user for v in snap.votes] == ["bob", "ann"]
    assert "1 of 4 candidates have votes" in progress_html(snap.progress, "bob")
    assert "<b class='vet-majority'>real</b> (100% agree)" in consensus_html(snap)
    assert "&lt;b&gt;looks real&lt;/b&gt;" in thread_html(snap.thread) and "margin-left:16px" in thread_html(snap.thread)
    assert list(reply_options(snap.thread).values())[:2] == [0, top.id] and len(reply_options(snap.thread)) == 3


def test_the_page_votes_by_key_and_sends_a_refused_vote_again(data_root, logged_in, monkeypatch):
    from app.pages.vetting import VettingPage

    store = logged_in("ann", "admin")
    ids = _campaign(store)
    page = VettingPage()
    assert page.campaign is not None and page.candidate == ids[0] and page.exports.visible
    page.keys.press = "3|1"
    assert "Saved: <b>unsure</b> for cand-0" in page.ack.object and page.candidate == ids[1]
    def refused(*args):
        raise StoreBusyError("the database stayed locked")

    real_vote = page.state.vote
    monkeypatch.setattr(page.state, "vote", refused)
    page.cast("real")
    assert "Not saved" in page.ack.object and page.resend_button.visible and page.state.unsent.label == "real"
    page.skip()
    assert page.candidate == ids[2]
    monkeypatch.setattr(page.state, "vote", real_vote)
    page.resend()
    assert [v.label for v in store.votes(ids[1])] == ["real"] and page.state.unsent is None
    assert b"cand-0" in page.state.export(".csv")
