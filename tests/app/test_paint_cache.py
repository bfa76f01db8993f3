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


# every <style> of the cube figure (its shadow roots included) and a record of those that were written
WATCH_STYLES = """() => {
  const fig = Bokeh.index.find_one(Bokeh.documents[0].get_model_by_name('cube-figure'));
  const styles = [], seen = new Set();
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'STYLE') styles.push(el);
      if (el.shadowRoot && !seen.has(el.shadowRoot)) { seen.add(el.shadowRoot); walk(el.shadowRoot); }
    }
  };
  walk(fig.el.shadowRoot);
  const before = new Map(styles.map((s) => [s, s.textContent]));
  const written = new Set();
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === Node.TEXT_NODE ? r.target.parentNode : r.target;
      if (el && el.tagName === 'STYLE') written.add(el);
    }
  });
  for (const s of styles) observer.observe(s, {childList: true, characterData: true, subtree: true});
  window.__styleWrites = () => {
    observer.takeRecords().forEach((r) => written.add(r.target.nodeType === Node.TEXT_NODE ? r.target.parentNode : r.target));
    const same = [...written].filter((s) => before.get(s) === s.textContent);
    return {styles: styles.length, written: written.size, same: same.length,
            texts: same.slice(0, 5).map((s) => (s.getRootNode().host?.className || '') + ': ' + s.textContent.slice(0, 120))};
  };
  return styles.length;
}"""


def test_a_channel_step_rewrites_no_style_sheet_with_the_text_it_holds(page, server):
    """Bokeh writes every renderer's position into its <style> at each paint; Chromium takes a write of the same
    text as a style change that the next computed-style read recalculates (most of a channel step's time)."""
    url, _ = server
    open_cube_page(page, url)
    wait_until(lambda: page.evaluate("() => window.__astromlPaintCache") is not None, what="the install script")
    assert page.evaluate(WATCH_STYLES) > 20
    ch0, _ = channel_state(page)
    before = page.evaluate(IMAGE_SUM)
    page.locator(".channel-forward button").click()
    wait_until(lambda: channel_state(page)[0] == ch0 + 1 and page.evaluate(IMAGE_SUM) != before, what="the next channel")
    page.wait_for_timeout(300)                      # the repaint after the new data
    writes = page.evaluate("() => window.__styleWrites()")
    assert writes["same"] == 0, writes
