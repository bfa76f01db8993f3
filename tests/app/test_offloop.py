"""Pages are built on a worker thread: while one visitor's page takes a second to build, another visitor's
request is answered at once, and the built page is served whole."""
from __future__ import annotations

import threading
import time
import urllib.request

import panel as pn
import pytest
from panel.io.state import state

from app.offloop import offloop_app
from tests.app.conftest import serve_here

BUILD_SECONDS = 1.5


@pytest.fixture(scope="module")
def served():
    seen: dict[str, object] = {}

    def slow_page():
        seen["thread"] = threading.current_thread().name
        seen["doc"] = pn.state.curdoc
        time.sleep(BUILD_SECONDS)           # stands for a page's Python: the GIL is let go the same way
        return pn.Column(pn.pane.Markdown("# built off the loop"), pn.widgets.IntSlider(name="n", value=3))

    server, url = serve_here({"/slow": offloop_app(slow_page, "t"), "/quick": lambda: pn.pane.Markdown("quick")},
                             "/quick", timeout_s=30)
    yield url, seen
    server.stop()


def _get(url: str) -> tuple[float, str]:
    t = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=30).read().decode()
    return time.perf_counter() - t, body


def test_another_visitor_is_answered_while_a_page_builds(served):
    url, seen = served
    result = {}
    slow = threading.Thread(target=lambda: result.update(slow=_get(url + "/slow")))
    slow.start()
    time.sleep(0.3)                              # the slow page is being built now
    quick, body = _get(url + "/quick")
    slow.join(30)
    took, page = result["slow"]
    assert took >= BUILD_SECONDS
    assert quick < 0.5 * BUILD_SECONDS, quick    # on the loop it would wait for the build to end
    assert "<html" in body and "<html" in page
    roots = seen["doc"].roots               # the page's document holds what was built on the worker thread
    assert roots and "built off the loop" in roots[0].children[0].text
    assert seen["thread"].startswith("astroml-page")


def test_the_built_document_is_handed_back_to_the_loop_thread(served):
    url, seen = served
    _get(url + "/slow")
    doc = seen["doc"]
    assert state._thread_id_.get(doc) not in (None, threading.get_ident())
    assert state._thread_id_[doc] != [t.ident for t in threading.enumerate() if t.name == seen["thread"]][0]
