"""The deblending page in real Chromium on the files astronomers have: a real HST image uploaded opens with its
band, unit and notes and is deblended; two single-band files dropped together become one two-band image."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from tests.app.test_cube_page import text, wait_until
from tests.corpus.files import corpus_path

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ASTROML_SHOTS", Path(__file__).resolve().parents[2] / ".cache" / "shots"))


def _upload(page, files: list[tuple[str, bytes]]) -> None:
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": name, "mimeType": "application/fits", "buffer": data} for name, data in files])


def _deblend(page) -> str:
    page.locator(".deblend-run button").click()
    status = wait_until(lambda: (t := text(page, ".deblend-status")) and "Sources found" in t and t, timeout=180,
                        what="the baselines on the uploaded image")
    return re.search(r"Sources found: ([^<\n]*)", status).group(1)


def test_a_real_hst_image_uploads_opens_with_its_notes_and_is_deblended(page, server):
    url, _ = server
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    _upload(page, [("HST-HDFS.fits", corpus_path("hst_hdfs").read_bytes())])
    page.wait_for_selector(".image-info >> text=F606W")
    info, notes = text(page, ".image-info"), text(page, ".image-notes")
    assert "nJy" in info and "500 × 500" in info and "HST-HDFS.fits: band" in notes and not re.search(r"[0-9a-f]{12}_HST", notes)
    assert "band 'F606W' from FILTNAM1" in notes and "PHOTFLAM" in notes and "read as counts/s" in notes
    found = _deblend(page)
    counts = dict((m, int(n)) for m, n in re.findall(r"(sep|photutils) (\d+)", found))
    assert counts["sep"] > 20 and counts["photutils"] > 20 and "model" not in found
    assert "nJy" in text(page, ".table-caption")
    page.locator(".tabulator-row").nth(3).click()                 # a source: its one-band stamps and residual
    page.wait_for_selector("text=Source 3")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "deblend_real_upload.png", full_page=True)


def _band_file(band: str, value: float) -> bytes:
    w = WCS(naxis=2)
    w.wcs.ctype, w.wcs.crpix, w.wcs.crval = ["RA---TAN", "DEC--TAN"], [40.5, 40.5], [150.0, 2.0]
    w.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
    header = w.to_header()
    header["FILTER"], header["BUNIT"] = band, "nanomaggies"
    yy, xx = np.mgrid[:80, :80]
    data = (np.random.default_rng(ord(band)).normal(0, 0.05, (80, 80))
            + value * np.exp(-((xx - 30) ** 2 + (yy - 42) ** 2) / 10) + value * np.exp(-((xx - 52) ** 2 + (yy - 38) ** 2) / 8))
    buffer = io.BytesIO()
    fits.PrimaryHDU(data.astype(np.float32), header).writeto(buffer)
    return buffer.getvalue()


def test_two_single_band_files_dropped_together_become_two_bands(page, server):
    url, _ = server
    page.goto(url + "/deblend")
    page.wait_for_selector(".image-info >> text=Bands")
    _upload(page, [("field_r.fits", _band_file("r", 3.0)), ("field_g.fits", _band_file("g", 2.0))])
    wait_until(lambda: re.search(r"Bands\s*g, r\s*·", text(page, ".image-info")), timeout=30,
               what="the two files as bands g, r")                 # combined in wavelength order
    assert "ordered by wavelength: g, r" in text(page, ".image-notes")
    assert "nJy" in text(page, ".image-info")
    found = _deblend(page)
    assert re.search(r"sep [1-9]", found)
