"""Take the README's screenshots from the running app: ``python -m tests.app.screenshots [URL]``.

Serve first (``make serve``), then run this; PNGs go to assets/screenshots/.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.app.test_cube_page import TO_SCREEN

OUT = Path(__file__).resolve().parents[2] / "assets" / "screenshots"


def main(url: str = "http://localhost:5006") -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1420})
        page.goto(url + "/")
        page.wait_for_selector(".page-card")
        time.sleep(1)
        page.screenshot(path=OUT / "landing.png")
        page.goto(url + "/cubes")
        page.wait_for_selector(".channel-label >> text=MHz")
        # a pixel on one of the demo field's brighter galaxies, then its channel from the spectrum
        page.mouse.click(*page.evaluate(TO_SCREEN, ["cube-figure", 104, 50]))
        time.sleep(1.5)
        page.mouse.click(*page.evaluate(TO_SCREEN, ["spectrum-figure", 1137.75, 0.0]))
        time.sleep(1.0)
        page.locator(".map-around button").click()
        time.sleep(1.5)
        page.locator(".limits-select select").select_option("min/max")
        time.sleep(1.0)
        page.mouse.move(*page.evaluate(TO_SCREEN, ["cube-figure", 104, 50]))
        for _ in range(4):  # zoom in on the galaxy with the mouse wheel
            page.mouse.wheel(0, -150)
            time.sleep(0.3)
        time.sleep(1.0)
        page.mouse.move(*page.evaluate(TO_SCREEN, ["cube-figure", 104, 50]))
        time.sleep(0.5)
        page.mouse.move(5, 600)
        page.screenshot(path=OUT / "cubes.png")
        page.goto(url + "/cubes")
        page.wait_for_selector(".channel-label >> text=MHz")
        page.locator(".detect-method button", has_text="baseline").click()
        page.locator(".detect button").click()
        page.wait_for_selector(".detect-status >> text=(baseline)", timeout=120_000)
        page.locator(".detect-method button", has_text="model").click()
        page.locator(".detect button").click()
        page.wait_for_selector(".detect-status >> text=(model)", timeout=120_000)
        page.locator(".show-truth input").check()
        time.sleep(1.5)
        page.locator(".hi-table .tabulator-row").nth(1).click()
        time.sleep(2.0)
        page.mouse.move(5, 600)
        page.set_viewport_size({"width": 1400, "height": 1700})
        time.sleep(0.5)
        page.screenshot(path=OUT / "hi_detect.png")
        deblend_page(page, url)
        spectra_page(page, url)
        learn_page(page, url)
        inference_pages(page, url)
        browser.close()
    print(f"wrote {OUT}/landing.png, cubes.png, hi_detect.png, deblend.png, spectra.png, learn.png and inference*.png")


def inference_pages(page, url: str) -> None:
    """The inference page: a demo lightcone's corner plot; four galaxies combined; the held-out checks."""
    page.set_viewport_size({"width": 1500, "height": 1450})
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    time.sleep(2.0)
    page.screenshot(path=OUT / "inference.png")
    page.goto(url + "/inference?tab=1&galaxies=[1,2,3,4]")
    page.wait_for_selector(".omega-interval >> text=4 galaxies", timeout=90_000)
    time.sleep(1.5)
    page.screenshot(path=OUT / "inference_galaxies.png")
    page.goto(url + "/inference?tab=2")
    time.sleep(6.0)
    page.screenshot(path=OUT / "inference_heldout.png", full_page=True)


def learn_page(page, url: str) -> None:
    """A lesson step with its question answered wrongly, above the live cube page it drives."""
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url + "/learn?lesson=finding_hi&step=2")
    page.wait_for_selector(".channel-label >> text=Moment 0 over channels", timeout=60_000)
    page.locator(".lesson-choices label").first.click()
    time.sleep(0.5)
    page.locator(".lesson-check button").click()
    time.sleep(1.5)
    page.mouse.move(5, 600)
    page.screenshot(path=OUT / "learn.png")


# true once a Bokeh title says what the model sees and is no longer "computing…"
SALIENCY_SHOWN = """() => window.Bokeh && Bokeh.documents.some(d => Array.from(d.all_models).some(m =>
    typeof m.text === "string" && m.text.startsWith("What the model sees") && !m.text.includes("computing")))"""


def deblend_page(page, url: str) -> None:
    """The deblending page: demo field deblended, a source picked from the table."""
    page.set_viewport_size({"width": 1400, "height": 1480})
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    page.locator(".deblend-run button").click()
    page.wait_for_selector(".deblend-status >> text=Sources found", timeout=120_000)
    page.locator(".deblend-table .tabulator-row").nth(4).click()
    page.wait_for_function(SALIENCY_SHOWN, timeout=60_000)
    time.sleep(1.0)
    page.mouse.move(5, 600)
    page.screenshot(path=OUT / "deblend.png")


def spectra_page(page, url: str) -> None:
    """The spectra page: the demo survey's UMAP, a lasso around one island, its spectra and the matrix."""
    page.set_viewport_size({"width": 1400, "height": 1500})
    page.goto(url + "/spectra")
    page.wait_for_function("() => Bokeh.documents.length && Bokeh.documents[0].get_model_by_name('embedding-figure')"
                           ".title.text.startsWith('UMAP')", timeout=300_000)
    time.sleep(2.0)
    fig = page.locator(".bk-Canvas").first.bounding_box()
    cx, cy, r = fig["x"] + fig["width"] * 0.42, fig["y"] + fig["height"] * 0.45, fig["width"] * 0.08
    import math

    page.mouse.move(cx + r, cy)
    page.mouse.down()
    for k in range(1, 41):
        page.mouse.move(cx + r * math.cos(k * math.pi / 20), cy + r * math.sin(k * math.pi / 20))
    page.mouse.up()
    time.sleep(3.0)
    page.mouse.move(5, 700)
    page.screenshot(path=OUT / "spectra.png", full_page=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
