"""The URL follows the view without filling the browser's history: Back leaves the page, not the last channel."""
from __future__ import annotations

import pytest

from tests.app.test_cube_page import channel_state, open_cube_page, wait_until

pytestmark = pytest.mark.browser


def test_channel_steps_update_the_url_in_place_and_back_leaves_the_page(page, server):
    url, _ = server
    page.goto(url + "/")
    open_cube_page(page, url)
    href = lambda: page.evaluate("() => window.location.href")
    wait_until(lambda: "channel=" in href(), what="the view in the URL")
    entries = page.evaluate("() => history.length")
    ch0, _ = channel_state(page)
    for k in range(1, 4):
        page.locator(".channel-forward button").click()
        wait_until(lambda k=k: f"channel={ch0 + k}&" in href(), timeout=30, what=f"channel {ch0 + k} in the URL")
    assert page.evaluate("() => history.length") == entries
    page.go_back()
    wait_until(lambda: "/cubes" not in href(), what="Back to the landing page")
