"""The paint cache is installed in the served page and plots still paint and update with it."""
from __future__ import annotations

import bokeh
import pytest

from tests.app.test_cube_page import channel_state, open_cube_page, wait_until

pytestmark = pytest.mark.browser

IMAGE_SUM = """() => { const a = Bokeh.documents[0].get_model_by_name('cube-image-source').data.image[0];
  let s = 0; for (let i = 0; i < a.length; i += 97) s += a[i] || 0; return s; }"""


def test_the_cache_is_installed_and_a_channel_step_still_repaints(page, server):
    url, _ = server
    open_cube_page(page, url)
    installed = wait_until(lambda: page.evaluate("() => window.__astromlPaintCache") is not None,
                           what="the paint cache's install script")
    assert installed and page.evaluate("() => window.__astromlPaintCache") is True, \
        f"Bokeh {bokeh.__version__}'s internals differ from those the paint cache knows"
    # the answers it gives are the browser's own
    same = page.evaluate("""() => { const f = Bokeh.documents[0].get_model_by_name('cube-figure');
      const v = Bokeh.index.find_one(f);
      return [v.base_font_size, parseFloat(getComputedStyle(v.el).fontSize)]; }""")
    assert same[0] == same[1]
    ch0, _ = channel_state(page)
    before = page.evaluate(IMAGE_SUM)
    page.locator(".channel-forward button").click()
    wait_until(lambda: channel_state(page)[0] == ch0 + 1 and page.evaluate(IMAGE_SUM) != before, what="the next channel")
