"""The URL follows the view without filling the browser's history: Back leaves the page, not the last channel."""
from __future__ import annotations

import pytest

from tests.app.test_cube_page import address, channel_state, open_cube_page, wait_until

pytestmark = pytest.mark.browser


def test_channel_steps_update_the_url_in_place_and_back_leaves_the_page(page, server):
    url, _ = server
    page.goto(url + "/")
    open_cube_page(page, url)
    wait_until(lambda: "channel=" in address(page), what="the view in the URL")
    entries = page.evaluate("() => history.length")
    ch0, _ = channel_state(page)
    for k in range(1, 4):
        page.locator(".channel-forward button").click()
        wait_until(lambda k=k: f"channel={ch0 + k}&" in address(page), timeout=30, what=f"channel {ch0 + k} in the URL")
    assert page.evaluate("() => history.length") == entries
    page.go_back()
    wait_until(lambda: "/cubes" not in address(page), what="Back to the landing page")


COUNT_URL_WRITES = """(() => { window.__urlWrites = 0; const write = history.replaceState.bind(history);
  history.replaceState = (s, t, u) => { window.__urlWrites++; return write(s, t, u); }; })();"""


def test_quick_channel_steps_write_the_address_bar_once_when_the_view_is_still(page, server):
    """Each URL write held the browser ~15 ms of a step: five quick steps write it once (at most 3 on a loaded
    machine), not five times."""
    url, _ = server
    page.context.add_init_script(COUNT_URL_WRITES)      # before the page's own script binds replaceState
    page.goto(url + "/")
    open_cube_page(page, url)
    wait_until(lambda: "channel=" in address(page), what="the view in the URL")
    ch0, _ = channel_state(page)
    page.wait_for_timeout(500)
    before = page.evaluate("() => window.__urlWrites")
    box = page.locator(".channel-forward button").bounding_box()
    for _ in range(5):                                  # as quick as a user's clicks
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(40)
    wait_until(lambda: channel_state(page)[0] == ch0 + 5, what=f"channel {ch0 + 5}")
    wait_until(lambda: f"channel={ch0 + 5}&" in address(page), what="the last channel in the URL")
    page.wait_for_timeout(500)
    assert 1 <= page.evaluate("() => window.__urlWrites") - before <= 3         # the timer reset by each step
