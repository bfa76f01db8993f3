"""The deblending page in real Chromium: deblend the demo field, toggle masks, click a source and read
its fluxes back, upload a single-band image and a corrupt file."""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable

from tests.app.test_cube_page import MODEL_DATA, TO_SCREEN, text, wait_until

pytestmark = pytest.mark.browser

MASK_ALPHA = """() => {
  const img = Bokeh.documents[0].get_model_by_name('deblend-mask-source').data.image[0];
  const a = new Uint8Array(img.buffer ?? img);
  let n = 0; for (let i = 3; i < a.length; i += 4) if (a[i] > 0) n++;
  return n;
}"""

# the image figure's visible x and y extents (pixels)
VIEW = """() => { const f = Bokeh.documents[0].get_model_by_name('deblend-figure');
  return [f.x_range.start, f.x_range.end, f.y_range.start, f.y_range.end]; }"""


SELECTION = re.compile(r"Source (\d+) \((\w+)\) at pixel \(([\d.]+), ([\d.]+)\): g ([-\d.e+]+)")


def selection(page) -> tuple[int, float, float, float] | None:
    """(source id, x, y, g flux) from the selection label, or None."""
    m = SELECTION.search(text(page, ".deblend-selection"))
    return (int(m.group(1)), float(m.group(3)), float(m.group(4)), float(m.group(5))) if m else None


def cell(page, row: int, field: str) -> str:
    return page.locator(".deblend-table .tabulator-row").nth(row).locator(f'[tabulator-field="{field}"]').inner_text()


def open_deblended(page, url: str) -> None:
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    page.locator(".deblend-run button").click()
    page.wait_for_selector(".deblend-status >> text=Sources found", timeout=120_000)


def test_deblend_toggle_masks_click_a_source_and_read_its_fluxes(page, server):
    url, _ = server
    open_deblended(page, url)
    found = re.search(r"model (\d+), sep (\d+), photutils (\d+)", text(page, ".deblend-status"))
    assert found and int(found.group(1)) > 20
    shown = wait_until(lambda: page.evaluate(MASK_ALPHA), what="masks drawn")
    page.locator(".show-masks input").uncheck()
    wait_until(lambda: page.evaluate(MASK_ALPHA) == 0, what="masks hidden")
    page.locator(".show-masks input").check()
    wait_until(lambda: page.evaluate(MASK_ALPHA) == shown, what="masks back")
    # a row clicked: the selection names that source and reads back its g flux from the table
    source_id, g_flux = int(cell(page, 2, "id")), float(cell(page, 2, "g"))
    page.locator(".deblend-table .tabulator-row").nth(2).click()
    sel = wait_until(lambda: (v := selection(page)) and v[0] == source_id and v, what="the clicked source's fluxes")
    assert sel[3] == pytest.approx(g_flux, rel=5e-3, abs=0.01)
    marker = page.evaluate(MODEL_DATA, ["deblend-marker-source", "x"])
    assert marker and abs(marker[0] - sel[1]) < 0.06          # the label rounds to 0.1 px
    assert wait_until(lambda: page.evaluate(MODEL_DATA, ["stamp-deblended-r", "image"]), what="stamps")
    # select another row, then click the first source on the image: the click selects it again
    other_id = int(cell(page, 0, "id"))
    page.locator(".deblend-table .tabulator-row").nth(0).click()
    wait_until(lambda: (v := selection(page)) and v[0] == other_id, what="row 0 selected")
    page.mouse.click(*page.evaluate(TO_SCREEN, ["deblend-figure", sel[1], sel[2]]))
    wait_until(lambda: (v := selection(page)) and v[0] == source_id,
               what="a click on the image to select the source under it")
    # the catalogue and masks download: the same sources and fluxes as the table, and a mask per source
    table = QTable.read(io.BytesIO(download(page, ".export-ecsv", "blends_demo_model_sources.ecsv")), format="ascii.ecsv")
    assert len(table) == int(found.group(1)) and table.meta["method"] == "model"
    assert table["flux_g"][table["id"] == source_id].value[0] == pytest.approx(g_flux, rel=5e-3, abs=0.01)
    with fits.open(io.BytesIO(download(page, ".export-fits", "blends_demo_model_masks.fits"))) as hdul:
        assert hdul[0].data.max() == len(table) and hdul[0].header["METHOD"] == "model"


def download(page, css: str, name: str) -> bytes:
    """Press a download button and return the file's bytes (under the name it should have)."""
    with page.expect_download(timeout=20_000) as event:
        page.locator(f"{css} button").click()
    assert event.value.suggested_filename == name
    return Path(event.value.path()).read_bytes()


def test_single_band_upload_works_and_a_corrupt_upload_shows_the_error(page, server):
    url, _ = server
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    yy, xx = np.mgrid[:96, :96]
    image = (np.random.default_rng(1).normal(0, 1, (96, 96)) + 60 * np.exp(-((xx - 40) ** 2 + (yy - 50) ** 2) / 18)
             + 40 * np.exp(-((xx - 52) ** 2 + (yy - 47) ** 2) / 12)).astype(np.float32)
    buffer = io.BytesIO()
    fits.PrimaryHDU(image).writeto(buffer)
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": "single.fits", "mimeType": "application/fits", "buffer": buffer.getvalue()}])
    page.wait_for_selector(".image-info >> text=band1")
    # the view fits the new, smaller image (it kept the demo's extent while the ranges were data ranges)
    wait_until(lambda: page.evaluate(VIEW) == [-0.5, 95.5, -0.5, 95.5], what="the view on the 96 × 96 image")
    page.locator(".deblend-run button").click()
    status = wait_until(lambda: (t := text(page, ".deblend-status")) and "Sources found" in t and t, timeout=120,
                        what="baselines on the single band")          # queued behind the demo survey's analysis
    found = re.search(r"Sources found: ([^<]*)", status).group(1)
    assert re.search(r"sep [12]\b", found) and "model" not in found
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": "broken.fits", "mimeType": "application/fits",
                "buffer": b"SIMPLE  =                    T / junk" + bytes(range(256)) * 20}])
    page.locator(".error-banner").wait_for(state="visible")
    assert "Could not read the file" in text(page, ".error-banner")
    assert "band1" in text(page, ".image-info")          # the open image is still there and still works
    page.locator(".deblend-run button").click()
    wait_until(lambda: "Sources found" in text(page, ".deblend-status"), what="deblending after the error")


def test_an_image_opens_by_its_path_under_the_data_root(page, server):
    url, _ = server
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    page.locator(".source-choice .bk-btn", has_text="Server path").click()
    page.locator(".cube-path input").fill("demo/blends_demo.fits")
    page.keyboard.press("Escape")
    page.locator(".open-path button").click(timeout=10_000)     # in reach: not under the image column
    wait_until(lambda: "demo/blends_demo.fits" in text(page, ".page-title"), what="the image opened by path")


def test_a_copied_link_reopens_the_deblended_image_with_its_masks_and_method(browser, server):
    """Copy link after Deblend, open it in a fresh context: deblended again, masks drawn, the linked method and
    band shown (issue 34: the link reopened without masks)."""
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 1250})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    open_deblended(page, url)
    page.locator(".method-choice button", has_text="sep").click()
    wait_until(lambda: "per band from sep" in text(page, ".table-caption"), what="sep's table")
    page.locator(".copy-link button").click()
    wait_until(lambda: "copied" in page.locator(".copy-link button").inner_text(), what="the copy")
    link = page.evaluate("navigator.clipboard.readText()")
    assert "deblended=true" in link.lower() and "method=sep" in link, link
    ctx.close()

    fresh = browser.new_context(viewport={"width": 1400, "height": 1250})
    again = fresh.new_page()
    again.set_default_timeout(20_000)
    again.goto(link)
    again.wait_for_selector(".deblend-status >> text=Sources found", timeout=180_000)
    wait_until(lambda: again.evaluate(MASK_ALPHA), timeout=60, what="masks drawn from the link")
    wait_until(lambda: "per band from sep" in text(again, ".table-caption"), what="the linked method's table")
    fresh.close()
