"""The vetting page in real Chromium: logged-in users vote with the keyboard and see each other's votes
live (also across two server processes on one database); viewers cannot vote; hostile comments are
stored as typed and shown as text; a server killed mid-session loses no acknowledged vote."""
from __future__ import annotations

import os
import signal
import uuid

import numpy as np
import pytest

from astroml_core.vetting import CandidateIn, VettingStore, encode_preview
from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until

pytestmark = pytest.mark.browser

HOSTILE = "'); DROP TABLE votes;-- <script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
USERS = (("ann", "admin"), ("bob", "vetter"), ("cat", "vetter"), ("vic", "viewer"))


def _store(root) -> VettingStore:
    return VettingStore(f"sqlite:///{root / 'vetting.sqlite'}")


def _users(store: VettingStore) -> None:
    existing = {u.name for u in store.users()}
    for name, role in USERS:
        if name not in existing:
            store.add_user(name, f"{name}-password", role)


def _campaign(store: VettingStore, n: int = 6) -> tuple[int, list[int]]:
    """A fresh spectrum campaign with labels real/false/unsure; ids most uncertain first."""
    wave = np.linspace(3800, 9200, 200)
    cands = [CandidateIn(f"cand-{i}", {"row": i}, score=0.6, uncertainty=1.0 - 0.1 * i, model_label="real",
                         preview=encode_preview(wavelength=wave, flux=np.sin(wave / 300 + i)))
             for i in range(n)]
    cid = store.create_campaign("ann", f"test {uuid.uuid4().hex[:8]}", "spectrum", ["real", "false", "unsure"], cands)
    return cid, [c.id for c in store.candidates(cid)]


def login(browser, url: str, name: str):
    """A fresh browser context logged in as ``name`` through Panel's login form; returns its page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"{name}-password")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    return page


def open_candidate(page, url: str, campaign: int, candidate: int) -> None:
    page.goto(f"{url}/vetting?campaign={campaign}&candidate={candidate}")
    wait_until(lambda: "cand-" in text(page, ".vet-title") and "votes" in text(page, ".vet-consensus"),
               timeout=40, what="the candidate")


def shown(page, css_class: str) -> str:
    """The rendered text of a pane (its shadow root without the style sheets)."""
    return page.locator(css_class).first.evaluate(
        "el => Array.from((el.shadowRoot || el).children).filter(c => c.tagName !== 'STYLE' && c.tagName !== 'LINK')"
        ".map(c => c.innerText).join('')")


def _nvotes(page) -> int:
    return int(text(page, ".vet-nvotes") or -1)


@pytest.fixture(scope="module")
def second_server(server):
    """A second server process on the same data root, hence the same vetting database."""
    _, root = server
    proc, url = start_server(root)
    yield url
    stop_server(proc)


@pytest.mark.parametrize("where", ["one process", "two processes"])
def test_second_user_sees_first_users_vote_without_reload(server, browser, request, where):
    url, root = server
    url_b = url if where == "one process" else request.getfixturevalue("second_server")
    store = _store(root)
    _users(store)
    cid, ids = _campaign(store)
    a, b = login(browser, url, "bob"), login(browser, url_b, "cat")
    open_candidate(a, url, cid, ids[2])
    open_candidate(b, url_b, cid, ids[2])
    assert "Logged in as bob" in text(a, ".vet-user") and "Logged in as cat" in text(b, ".vet-user")
    assert _nvotes(b) == 0
    b.evaluate("() => { window.__not_reloaded = true; }")
    a.locator(".vet-vote-2 button").click()  # "2 · false"
    wait_until(lambda: "Saved: false for cand-2" in text(a, ".vet-ack"), what="bob's acknowledgement")
    wait_until(lambda: _nvotes(b) == 1, timeout=10, what="bob's vote to reach cat's page")
    assert "bob: false" in text(b, ".vet-consensus") and "Majority: false" in text(b, ".vet-consensus")
    assert b.evaluate("() => window.__not_reloaded === true")
    b.keyboard.press("1")  # cat votes real on the same candidate with the keyboard
    wait_until(lambda: "Saved: real for cand-2" in text(b, ".vet-ack"), what="cat's acknowledgement")
    assert sorted((v.user, v.label) for v in store.votes(ids[2])) == [("bob", "false"), ("cat", "real")]
    a.context.close(), b.context.close()


def test_viewer_cannot_vote_and_a_hostile_comment_is_shown_as_text(server, browser):
    url, root = server
    store = _store(root)
    _users(store)
    cid, ids = _campaign(store)
    viewer = login(browser, url, "vic")
    open_candidate(viewer, url, cid, ids[0])
    assert "viewer" in text(viewer, ".vet-user")
    assert viewer.locator(".vet-vote-1 button").is_disabled()
    viewer.keyboard.press("1")
    viewer.wait_for_timeout(1500)
    assert store.votes(ids[0]) == []

    bob = login(browser, url, "bob")
    open_candidate(bob, url, cid, ids[0])
    bob.keyboard.press("c")  # the shortcut puts the cursor in the comment box
    bob.keyboard.type(HOSTILE)
    bob.locator(".vet-comment button").click()
    wait_until(lambda: "DROP TABLE" in text(bob, ".vet-thread"), what="the comment")
    shown = text(bob, ".vet-thread")
    assert "<script>window.__pwned=1</script>" in shown and "<img src=x" in shown  # literal text, not markup
    for pg in (bob, viewer):
        wait_until(lambda: "DROP TABLE" in text(pg, ".vet-thread"), what="the comment on every page")
        assert pg.evaluate("() => window.__pwned === undefined")
        assert pg.locator(".vet-thread").first.evaluate("el => el.shadowRoot.querySelectorAll('img, script').length") == 0
    assert [c.text for c in store.thread(ids[0])] == [HOSTILE]
    bob.keyboard.press("Escape")
    viewer.context.close(), bob.context.close()


def test_wrong_password_is_refused(server, browser):
    url, root = server
    _users(_store(root))
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "not-bobs-password")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    assert "Invalid username or password" in page.content()
    page.goto(url + "/vetting")
    wait_until(lambda: "guest" in text(page, ".vet-user"), what="the guest notice")
    context.close()


def test_killed_server_keeps_every_acknowledged_vote(server, browser, tmp_path):
    _, root = server
    db = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    store = VettingStore(db)
    _users(store)
    cid, ids = _campaign(store, n=8)
    proc, url = start_server(root, ASTROML_VETTING_DB=db)
    try:
        page = login(browser, url, "bob")
        open_candidate(page, url, cid, ids[0])
        acked = []
        for k in range(5):
            name = shown(page, ".vet-title").strip()
            page.keyboard.press("1")
            wait_until(lambda: f"for {name} " in text(page, ".vet-ack"), what=f"acknowledgement {k}")
            acked.append(name)
            wait_until(lambda: shown(page, ".vet-title").strip() != name, what="the next candidate")
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # mid-session, without any chance to flush or close
        proc.wait()
    proc, url = start_server(root, port=int(url.rsplit(":", 1)[1]), ASTROML_VETTING_DB=db)
    try:
        page.goto(f"{url}/vetting?campaign={cid}")
        wait_until(lambda: "you have voted on 5" in text(page, ".vet-progress"), timeout=40,
                   what="the votes after the restart")
        stored = {c.name for c in store.candidates(cid) if any(v.user == "bob" for v in store.votes(c.id))}
        assert stored == set(acked)
    finally:
        stop_server(proc)
        page.context.close()


def test_a_named_saved_view_reopens_the_page_state_for_its_owner_only(server, browser):
    from tests.app.test_cube_page import channel_state

    url, root = server
    _users(_store(root))
    bob = login(browser, url, "bob")
    bob.goto(url + "/cubes?channel=300&stretch=sqrt")
    wait_until(lambda: channel_state(bob)[0] == 300, timeout=40, what="the linked channel")
    bob.locator(".view-name input").fill("HI at channel 300")
    bob.locator(".view-save button").click()
    wait_until(lambda: "HI at channel 300" in shown(bob, ".saved-views"), what="the saved view")
    href = bob.locator(".saved-views").first.evaluate("el => el.shadowRoot.querySelector('a.saved-view').href")
    assert "channel=300" in href and "stretch=sqrt" in href
    again = login(browser, url, "bob")              # another browser, later: the view is in bob's list
    again.goto(url + "/")
    wait_until(lambda: "HI at channel 300" in shown(again, ".saved-views"), what="bob's views")
    again.goto(href)
    wait_until(lambda: channel_state(again)[0] == 300, timeout=40, what="the saved channel")
    cat = login(browser, url, "cat")
    cat.goto(url + "/")
    wait_until(lambda: "None saved yet" in shown(cat, ".saved-views"), what="cat's own (empty) list")
    for pg in (bob, again, cat):
        pg.context.close()
