"""A page added by one PageSpec, with no other file edited (issue 33): it appears in the navigation, on the
landing page and at its own URL, and a lesson drives it (sets its parameters, runs its actions, retries one
that is not ready yet) — headless, and served in a browser."""
from __future__ import annotations

import time

import panel as pn
import param
import pytest

from app.lessons import Lesson, Step
from app.pages.spec import PageSpec, page_spec, pages, register, unregister
from tests.app.conftest import serve_here


class ToyPage(pn.viewable.Viewer):
    """A page with one parameter, a counter an action moves, and a readiness an action waits for."""

    width = param.Integer(default=1, bounds=(1, 20))
    count = param.Integer(default=0)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.ready = False
        self.shown = pn.pane.HTML(css_classes=["toy-shown"])
        self.param.watch(lambda e: self._show(), ["width", "count"])
        self._show()

    def bump(self, n: int) -> None:
        """Add ``n`` to the counter."""
        self.count += n

    def _show(self) -> None:
        self.shown.object = f"width {self.width} · count {self.count}"

    def __panel__(self):
        return pn.Column("## Toy page", self.shown)


def _bump(page: ToyPage, n) -> bool:
    page.bump(int(n))
    return True


def _when_ready(page: ToyPage, n) -> bool:
    if not page.ready:
        return False
    page.bump(int(n))
    return True


TOY = PageSpec(slug="toy", title="Toy page", blurb="A page that exists only in this test.", factory=ToyPage,
               actions={"bump": _bump, "bump_when_ready": _when_ready}, order=35)
LESSON = Lesson(slug="toy_lesson", title="Driving the toy", page="toy", summary="Two steps on the toy page.",
                steps=(Step("Set it", "The lesson sets the width.", {"width": 7}),
                       Step("Bump it", "The lesson runs actions.", {}, (("bump", 3), ("bump_when_ready", 10)))))


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    unregister("toy")


def test_a_registered_page_is_listed_in_order_and_found_by_slug(toy):
    slugs = [p.slug for p in pages()]
    assert slugs == ["cubes", "deblend", "spectra", "toy", "inference", "vetting", "learn"]
    assert page_spec("toy") is toy
    with pytest.raises(KeyError, match="no page 'nope'"):
        page_spec("nope")


def test_unregistering_removes_it_again(toy):
    unregister("toy")
    assert "toy" not in [p.slug for p in pages()]


def test_a_slug_that_is_not_a_url_segment_is_refused():
    with pytest.raises(ValueError, match="lower-case letters"):
        PageSpec(slug="../etc", title="x", blurb="", factory=ToyPage)


def test_the_shell_builds_it_and_links_it(toy):
    from app.shell import build, routes

    assert "/toy" in routes()
    home = build("")
    nav = home.sidebar[0].object
    assert "href='./toy'" in nav and ">Toy page<" in nav
    assert nav.index("./spectra") < nav.index("./toy") < nav.index("./inference")
    page = build("toy")
    assert page.title == "AstroML Explorer · Toy page"
    assert page.main[0][1].object == "width 1 · count 0"          # the toy page's own content


def test_a_lesson_sets_its_state_and_runs_its_actions(toy, monkeypatch):
    from app.pages import learn

    monkeypatch.setattr(learn, "lessons", lambda: {"toy_lesson": LESSON})
    lesson = learn.LearnPage(lesson="toy_lesson")
    target = lesson.target
    assert isinstance(target, ToyPage) and target.width == 7 and target.count == 0
    lesson.go(1)
    assert target.count == 3 and lesson._pending == [("bump_when_ready", 10)]     # not ready: retried later
    assert "still working" in lesson.waiting.object
    target.ready = True
    lesson._tick()
    assert target.count == 13 and lesson._pending == [] and lesson.waiting.object == ""
    lesson.go(0)                         # a jump back re-applies the settings up to that step
    assert target.width == 7


@pytest.fixture
def served_toy(toy, monkeypatch):
    """The app's own routes served in this process, with the toy page registered and its lesson shipped."""
    from app.pages import learn
    from app.shell import routes

    monkeypatch.setattr(learn, "lessons", lambda: {"toy_lesson": LESSON})
    server, url = serve_here(routes(), "/toy")
    yield url
    server.stop()


def _wait_shown(page, text: str, timeout: float = 30) -> None:
    """Wait until the toy page's pane (its content in the element's shadow root) reads ``text``."""
    pane, seen, deadline = page.locator(".toy-shown").first, "", time.time() + timeout
    while time.time() < deadline:
        if page.locator(".toy-shown").count():
            seen = pane.evaluate("el => (el.shadowRoot || el).textContent || ''")
            if text in seen:
                return
        time.sleep(0.1)
    raise AssertionError(f"the toy page shows {seen!r}, not {text!r}")


@pytest.mark.browser
def test_served_the_toy_page_is_reached_from_the_navigation_and_driven_by_its_lesson(served_toy, page):
    page.goto(served_toy + "/")
    page.locator(".app-nav a", has_text="Toy page").click()
    page.wait_for_url("**/toy")
    _wait_shown(page, "width 1 · count 0")
    page.goto(served_toy + "/learn?lesson=toy_lesson&step=1")
    _wait_shown(page, "width 7 · count 3")
    page.locator(".lesson-back").click()
    page.wait_for_function("() => location.search.includes('step=0')")
    page.locator(".lesson-next").click()
    _wait_shown(page, "width 7 · count 6")
