"""Hostile text never becomes markup: payloads in links (?file=, ?campaign=, ?lesson=), in FITS cards
(OBJECT, BUNIT, FILTER, EXTNAME), in file names under the data root and in upload names are shown as
text on every page, no dialog fires and no element of the payload appears in the page."""
from __future__ import annotations

import urllib.parse

import numpy as np
import pytest
from astropy.io import fits

from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until
from tests.conftest import ramp_cube, sdc2_header

pytestmark = pytest.mark.browser

PAYLOADS = ["<img src=x onerror=alert('xss-img')>", "<svg/onload=alert('xss-svg')>",
            "<script>alert('xss-script')</script>", "[link](javascript:alert('xss-md'))"]
HOSTILE_NAME = "<img src=x onerror=alert('xss-name')>.fits"
NEEDLES = {PAYLOADS[0]: "onerror=alert(", PAYLOADS[1]: "onload=alert(", PAYLOADS[2]: "<script>alert("}
PAGES = ["cubes", "deblend", "spectra", "inference", "vetting", "learn"]

# every element of the document and of every (open) shadow root
_ALL = """() => { const out = []; const walk = root => { for (const el of root.querySelectorAll('*')) {
  out.push(el); if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document); return out; }"""
PAGE_TEXT = f"""() => ({_ALL})().filter(el => el.shadowRoot).map(el => el.shadowRoot.textContent)
                  .concat([document.body.innerText]).join(' ')"""
INJECTED = f"""() => ({_ALL})().filter(el =>
  (el.tagName === 'IMG' && el.getAttribute('src') === 'x') || (el.tagName.toLowerCase() === 'svg' &&
   el.hasAttribute('onload')) || (el.tagName === 'SCRIPT' && el.textContent.includes('xss-')) ||
  (el.tagName === 'A' && (el.getAttribute('href') || '').startsWith('javascript:'))).map(el => el.outerHTML)"""


def _hostile_files(root):
    """Files under the data root whose cards and names carry payloads; returns their names."""
    header = sdc2_header()
    header["OBJECT"] = PAYLOADS[2]
    header["BUNIT"] = PAYLOADS[0]
    header["EXTNAME"] = PAYLOADS[1]
    fits.PrimaryHDU(ramp_cube(), header).writeto(root / "hostile_cube.fits")
    fits.PrimaryHDU(ramp_cube(), sdc2_header()).writeto(root / HOSTILE_NAME)
    image = fits.HDUList([fits.PrimaryHDU()])
    rng = np.random.default_rng(3)
    y, x = np.mgrid[:48, :48]
    galaxy = 50 * np.exp(-((x - 20) ** 2 + (y - 26) ** 2) / 8)
    for k, payload in enumerate(PAYLOADS[:2]):
        hdu = fits.ImageHDU((rng.normal(size=(48, 48)) + galaxy).astype(np.float32), name=f"band{k}")
        hdu.header["FILTER"] = payload
        hdu.header["BUNIT"] = PAYLOADS[1]
        image.append(hdu)
    image.writeto(root / "hostile_image.fits")
    _hostile_spectra(root / "hostile_spectra.fits")


def _hostile_spectra(path) -> None:
    """200 simulated spectra whose ids and true classes are markup."""
    from astropy.table import Table

    from astroml_core.sim.spectra import write_simulated

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # the flux unit "1e-17 erg/(s cm2 Angstrom)" is not FITS-standard
        table = Table.read(write_simulated(path, 77, 200), hdu=1)
    table["ID"] = [f"<img src=x onerror=alert('xss-id')>{k}" for k in range(len(table))]
    table["TRUE_CLASS"] = [PAYLOADS[1] if k % 2 else c for k, c in enumerate(table["TRUE_CLASS"])]
    with fits.open(path) as hdul:
        header = hdul[1].header
    hdu = fits.BinTableHDU(table, name="SPECTRA")
    for key in ("COEFF0", "COEFF1"):
        if key in header:
            hdu.header[key] = header[key]
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-data")
    _hostile_files(root)
    proc, url = start_server(root)
    yield url, root
    stop_server(proc)


@pytest.fixture
def guarded(browser):
    """A fresh page that records every dialog (and dismisses it)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def _shown_safely(page, needle: str, what: str, timeout: float = 60) -> None:
    """Wait until ``needle`` (the payload's own words) is on the page as text, then check nothing ran."""
    wait_until(lambda: needle in page.evaluate(PAGE_TEXT), timeout=timeout, what=f"{what} shown as text")
    page.wait_for_timeout(500)          # an onerror handler runs a moment after insertion
    assert page.evaluate(INJECTED) == [], what
    assert page.dialogs == [], what


@pytest.mark.parametrize("slug", PAGES)
@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_payload_in_the_link_is_shown_as_text(hostile_server, guarded, slug, payload):
    url, _ = hostile_server
    quoted = urllib.parse.quote(payload, safe="")
    query = {"vetting": f"campaign={quoted}&candidate={quoted}", "learn": f"lesson={quoted}&step=2"}
    guarded.goto(f"{url}/{slug}?{query.get(slug, f'file={quoted}')}")
    if slug in ("vetting", "learn"):                 # these pages do not echo an unknown name
        guarded.wait_for_selector(".app-nav")
        guarded.wait_for_timeout(3000)
        assert guarded.evaluate(INJECTED) == [] and guarded.dialogs == []
        return
    _shown_safely(guarded, NEEDLES[payload], f"{slug}: the link's file name")


def test_fits_cards_are_shown_as_text_on_the_cube_page(hostile_server, guarded):
    url, _ = hostile_server
    guarded.goto(f"{url}/cubes?file=hostile_cube.fits")
    guarded.locator(".fits-header").first.wait_for(state="attached")
    guarded.get_by_text("FITS header").first.click()
    _shown_safely(guarded, "<script>alert(", "OBJECT in the header pane")
    _shown_safely(guarded, "onerror=alert(", "BUNIT in the header pane and the warning")


def test_file_named_with_markup_opens_and_its_name_is_text(hostile_server, guarded):
    url, _ = hostile_server
    guarded.goto(f"{url}/cubes?file={urllib.parse.quote(HOSTILE_NAME, safe='')}")
    guarded.wait_for_selector(".channel-label >> text=MHz")
    _shown_safely(guarded, "onerror=alert('xss-name')", "the file name in the title")


def test_band_and_unit_cards_are_shown_as_text_on_the_deblend_page(hostile_server, guarded):
    url, _ = hostile_server
    guarded.goto(f"{url}/deblend?file=hostile_image.fits")
    _shown_safely(guarded, "onerror=alert(", "FILTER as a band name")
    _shown_safely(guarded, "onload=alert(", "BUNIT as the image unit")
    guarded.locator(".deblend-run button").click()
    guarded.wait_for_selector(".deblend-table .tabulator-row", timeout=180_000)   # queued behind the demo survey
    _shown_safely(guarded, "Sources found", "the catalogue, its band columns and caption")
    guarded.locator(".deblend-table .tabulator-row").first.click()
    _shown_safely(guarded, "Source 0", "the selected source's fluxes by band")


@pytest.mark.parametrize("slug", ["cubes", "deblend", "spectra", "inference"])
def test_upload_name_is_shown_as_text(hostile_server, guarded, slug):
    url, root = hostile_server
    guarded.goto(f"{url}/{slug}")
    guarded.wait_for_selector(".source-choice")
    guarded.locator(".source-choice .bk-btn", has_text="Upload").click()
    guarded.locator("input.filepond--browser").set_input_files(
        files=[{"name": HOSTILE_NAME, "mimeType": "application/fits",
                "buffer": (root / HOSTILE_NAME).read_bytes()}])
    _shown_safely(guarded, "onerror=alert('xss-name')", f"{slug}: the upload's name")


def test_spectrum_ids_and_classes_from_the_file_are_text(hostile_server, guarded):
    url, _ = hostile_server
    guarded.goto(f"{url}/spectra?file=hostile_spectra.fits")
    _shown_safely(guarded, "onload=alert(", "a true class in the legend", timeout=300)   # after the demo survey
    guarded.get_by_text("The unexpected", exact=True).click()
    _shown_safely(guarded, "onerror=alert('xss-id')", "ids in the anomaly table")


@pytest.mark.parametrize("path, says", [("%00evil.fits", "NUL byte"), ("a" * 10_000 + ".fits", "longer than")])
def test_unusable_paths_in_the_link_are_refused_plainly(hostile_server, guarded, path, says):
    url, _ = hostile_server
    guarded.goto(f"{url}/cubes?file={path}")
    _shown_safely(guarded, says, "the path's refusal")
    banner = text(guarded, ".error-banner")
    assert "That path cannot be opened" in banner and "Something went wrong" not in banner
