"""Layout at common screen widths in real Chromium (issue 34): the cube image and its colour bar inside a
1280 px window; in lecturer mode (CSS zoom on the document) the cube image drawn at its laid-out size,
inside a 1440 px window, and a click on it selecting the pixel under the pointer; the inference page's
posterior table inside a 1280 px window; the login page asking nothing of any other server."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from astroml_core.bench.served import TO_SCREEN
from tests.app.test_cube_page import wait_until

pytestmark = pytest.mark.browser

# the cube figure's canvas and colour bar in screen pixels, and the app's scrolling main column
CUBE_GEOMETRY = """() => {
  const doc = Bokeh.documents[0], fig = doc.get_model_by_name('cube-figure');
  const v = Bokeh.index.find_one(fig), c = v.canvas_view.el.getBoundingClientRect();
  const bar = Bokeh.index.find_one(doc.get_model_by_name('cube-colorbar')).bbox;
  const main = document.querySelector('#main'), m = main.getBoundingClientRect();
  const zoom = parseFloat(document.documentElement.style.zoom) || 1;    // clientWidth is in zoomed pixels
  return {canvas_left: c.left, canvas_right: c.right, canvas_width: c.width, laid_out_width: v.bbox.width,
          element_width: v.canvas_view.el.offsetWidth,
          bar_right: c.left + bar.x1 * c.width / v.bbox.width, window: innerWidth,
          main_right: m.left + main.clientWidth * zoom, main_scrolled: main.scrollLeft};
}"""
MARKER = "() => { const d = Bokeh.documents[0].get_model_by_name('cube-marker-source').data; return [d.x[0], d.y[0]]; }"
ZOOM = "() => document.documentElement.style.zoom"
SIDEBAR_SHOWN = "() => document.querySelector('#sidebar').getBoundingClientRect().width > 0"


@pytest.fixture
def sized(browser):
    """sized(width, height) → a new page with that viewport (closed after the test)."""
    contexts = []

    def _page(width: int, height: int):
        contexts.append(browser.new_context(viewport={"width": width, "height": height}))
        pg = contexts[-1].new_page()
        pg.set_default_timeout(60_000)
        return pg

    yield _page
    for context in contexts:
        context.close()


def _assert_cube_image_fits(g: dict) -> None:
    assert g["canvas_right"] <= min(g["window"], g["main_right"]) + 0.5, g   # image and colour bar, not cut
    assert g["bar_right"] <= min(g["window"], g["main_right"]) + 0.5, g
    assert g["main_scrolled"] == 0, g                                      # seen without scrolling sideways


@pytest.mark.parametrize("width,height", [(1280, 800), (1440, 900)])
def test_cube_image_and_colour_bar_fit_the_window(server, sized, width, height):
    url, _ = server
    page = sized(width, height)
    page.goto(url + "/cubes")
    page.wait_for_selector(".channel-label >> text=MHz")
    g = wait_until(lambda: (lambda g: g if g["laid_out_width"] > 0 else None)(page.evaluate(CUBE_GEOMETRY)),
                   what="the cube figure laid out")
    _assert_cube_image_fits(g)
    assert g["bar_right"] - g["canvas_left"] > 600                  # frame, axis and colour bar all there


def test_lecturer_mode_shows_the_whole_cube_image_on_a_1440_px_projector(server, sized):
    url, _ = server
    page = sized(1440, 900)
    page.goto(url + "/learn?lesson=finding_hi&lecturer=true")
    page.wait_for_selector(".channel-label >> text=MHz")
    wait_until(lambda: page.evaluate(ZOOM) == "1.35", timeout=30, what="lecturer zoom")

    def settled():
        g = page.evaluate(CUBE_GEOMETRY)
        return g if abs(g["canvas_width"] - g["laid_out_width"]) < 1 and g["canvas_right"] <= 1440 else None
    try:
        g = wait_until(settled, timeout=30, what="the cube figure inside the window")
    except AssertionError:
        g = page.evaluate(CUBE_GEOMETRY)
    _assert_cube_image_fits(g)
    # drawn at the size Bokeh laid it out for (under the zoom Bokeh laid a 734 px canvas out for 990 px)
    assert abs(g["element_width"] - g["laid_out_width"]) < 1 and abs(g["canvas_width"] - g["laid_out_width"]) < 1, g
    # a click lands on the pixel under the pointer
    page.evaluate("() => Bokeh.index.find_one(Bokeh.documents[0].get_model_by_name('cube-figure'))"
                  ".canvas_view.el.scrollIntoView({block: 'center'})")
    sx, sy = page.evaluate(TO_SCREEN, ["cube-figure", 200, 60])
    assert 0 < sx < 1440 and 0 < sy < 900
    page.mouse.click(sx, sy)
    wait_until(lambda: page.evaluate(MARKER) == [200, 60], timeout=30, what="the clicked pixel (200, 60) selected")
    assert not page.evaluate(SIDEBAR_SHOWN)             # folded away for the projector, the hamburger opens it
    # leaving lecturer mode brings the sidebar back at normal size
    box = page.locator(".lesson-lecturer input")
    box.focus()                       # by keyboard: Playwright's own pointer maths misses under CSS zoom
    page.keyboard.press("Space")
    wait_until(lambda: page.evaluate(ZOOM) in ("", "1"), timeout=30, what="zoom back to 1")
    wait_until(lambda: page.evaluate(SIDEBAR_SHOWN), timeout=30, what="the sidebar back")


@pytest.mark.parametrize("width,height", [(1280, 800), (1440, 900)])
def test_posterior_table_fits_the_window(server, sized, width, height):
    url, _ = server
    page = sized(width, height)
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    table = page.locator(".posterior-summary").first
    wait_until(lambda: "inside" in (table.evaluate("e => (e.shadowRoot || e).textContent") or ""),
               what="the posterior table filled")
    g = table.evaluate("""e => { const t = (e.shadowRoot || e).querySelector('table').getBoundingClientRect();
      const main = document.querySelector('#main'), m = main.getBoundingClientRect();
      return {left: t.left, right: t.right, window: innerWidth, main_right: m.left + main.clientWidth,
              main_scrolled: main.scrollLeft}; }""")
    assert g["right"] <= min(g["window"], g["main_right"]) + 0.5 and g["main_scrolled"] == 0, g
    assert g["right"] - g["left"] > 250, g


def test_login_page_asks_nothing_of_any_other_server(server, sized):
    url, _ = server
    page = sized(1280, 800)
    hosts = []
    page.on("request", lambda r: hosts.append(urlparse(r.url).netloc))
    page.goto(url + "/login")
    page.wait_for_load_state("networkidle")
    page.fill("#username", "nobody")                    # our own form, not Panel's generic page
    assert page.locator("form button[type=submit]").inner_text() == "Log in"
    assert "AstroML Explorer" in page.title()
    assert hosts and set(hosts) == {urlparse(url).netloc}, hosts
