"""Upload one spectrum file of each format we read to the spectra page in real Chromium: each opens, the page
shows how many spectra it holds and how the file was read, and a class is read back from the page; a
catalogue table is refused with the list of formats we read.

Real files where the corpus has one (DESI coadd, DESI spectra, a MUSE/IRAF wcs1d spectrum, an SDSS DR18 spec
file, a LEGA-C ESO Phase 3 table); for SDSS spSpec, spPlate, the BOSS image layout, LAMOST, 6dFGS and 2dFGRS,
files we wrote in each survey's layout (tests/core/test_spectrum_formats.py says so), with simulated spectra in
them; and our own table.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from astroml_core.data.spectrum_formats import SUPPORTED_SPECTRUM_FORMATS
from astroml_core.sim.spectra import CLASSES, write_simulated
from astroml_core.tasks.spectra.display_names import display_names
from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until
from tests.core.test_spectrum_formats import LAYOUT_WRITERS
from tests.corpus.files import corpus_path

pytestmark = pytest.mark.browser

PREDICTED = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  if (!doc) return null;
  for (const m of doc._all_models.values())
    if (m.type.endsWith('DataTabulator') && (m.css_classes || []).includes('anomaly-table'))
      return Array.from(m.source.data.predicted || []);
  return null;
}"""


@pytest.fixture(scope="module")
def formats_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    write_simulated(root / "spectra_3.fits", 7, 3)          # opened by link, so the page skips the demo survey
    proc, url = start_server(root)
    yield url, root
    stop_server(proc)


CORPUS_UPLOADS = {"desi_coadd": (2, "read as DESI coadd"), "desi_spectra": (1, "read as DESI spectra"),
                  "muse_spectrum": (1, "read as wcs1d-fits"), "sdss_ngc3522": (1, "read as SDSS-III/IV spec"),
                  "legac_spectrum": (1, "read as tabular-fits")}
WRITTEN = sorted(set(LAYOUT_WRITERS) - {"table.fits"})        # a real table (LEGA-C) stands for tabular-fits
NAMES = list(CORPUS_UPLOADS) + WRITTEN + ["ours.fits"]


@pytest.fixture(scope="module")
def uploads(tmp_path_factory) -> dict[str, tuple[str, bytes, int, str]]:
    """name → (file name, bytes, spectra expected, note expected) for each format."""
    folder = tmp_path_factory.mktemp("format-files")
    out = {k: (corpus_path(k).name, corpus_path(k).read_bytes(), *CORPUS_UPLOADS[k]) for k in CORPUS_UPLOADS}
    for name in WRITTEN:
        n, note = LAYOUT_WRITERS[name](folder / name)
        out[name] = (name, (folder / name).read_bytes(), n, note)
    table = write_simulated(folder / "ours.fits", 11, 7)
    out["ours.fits"] = ("ours.fits", table.read_bytes(), 7, "")
    return out


def _notes(page) -> str:
    """The 'how this file was read' pane's text ('' while it is hidden: Panel leaves it out of the page)."""
    return text(page, ".spectra-notes") if page.locator(".spectra-notes").count() else ""


def _upload(page, name: str, data: bytes) -> None:
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": name, "mimeType": "application/fits", "buffer": data}])


def _no_errors_logged(root: Path) -> None:
    """No traceback in the server's log but tornado's for a page closed while it was being sent to (a previous
    test's tab)."""
    log = next(root.glob("server-*.log")).read_text()
    for part in log.split("Traceback")[1:]:
        assert "WebSocketClosedError" in part[:800] or "StreamClosedError" in part[:800], part[:3000]


def _open_small_then_upload(page, url: str) -> None:
    page.goto(f"{url}/spectra?file=spectra_3.fits")
    wait_until(lambda: "3 spectra · classified" in text(page, ".spectra-status"), timeout=300, what="the small file")
    page.locator(".source-choice .bk-btn", has_text="Upload").click()


@pytest.mark.parametrize("key", NAMES)
def test_each_format_uploads_opens_and_is_classified(formats_server, uploads, page, key, tmp_path):
    url, root = formats_server
    name, data, n, note = uploads[key]
    _open_small_then_upload(page, url)
    _upload(page, name, data)
    noun = "spectrum" if n == 1 else "spectra"
    try:                       # a loaded 2-core machine takes a minute or more per file (the server warms up too)
        wait_until(lambda: f"{n} {noun} · classified" in text(page, ".spectra-status")
                   and (not note or note in _notes(page)), timeout=420, what=f"{name} classified")
    except AssertionError:
        raise AssertionError(f"{name} not shown: status {text(page, '.spectra-status')!r}, banner "
                             f"{text(page, '.error-banner') if page.locator('.error-banner').is_visible() else ''!r}")
    assert not page.locator(".error-banner").is_visible(), text(page, ".error-banner")
    predicted = wait_until(lambda: (p := page.evaluate(PREDICTED)) and len(p) == n and p,
                           what=f"the classes of {name}")
    assert set(predicted) <= set(display_names(CLASSES)) | {"Unknown"}, predicted    # read as words (issue 31)
    if key == "desi_coadd":
        page.wait_for_timeout(1500)
        shots = Path(os.environ.get("ASTROML_SHOT_DIR", tmp_path))
        page.screenshot(path=str(shots / "spectra_desi_upload.png"))
    _no_errors_logged(root)


def test_a_catalogue_upload_shows_the_formats_we_read(formats_server, page, tmp_path):
    url, _ = formats_server
    _open_small_then_upload(page, url)
    _upload(page, "GAMA_HzVs28.fits", corpus_path("gama_table").read_bytes())
    page.locator(".error-banner").wait_for(state="visible")
    banner = text(page, ".error-banner")
    assert "Not a format we read" in banner and "GAMA_HzVs28.fits is not a spectrum file we can read" in banner
    notes = wait_until(lambda: (t := _notes(page)) and "Spectrum formats we read" in t and t,
                       what="the list of formats")
    for fmt in SUPPORTED_SPECTRUM_FORMATS:
        assert fmt in notes
    status = text(page, ".spectra-status")                 # the open set is kept, with its title and status
    assert "3 spectra · classified" in status and "opening" not in status
    assert page.locator("h3", has_text="GAMA_HzVs28").count() == 0
    assert page.locator("h3", has_text="spectra_3.fits").count() == 1
    page.screenshot(path=str(Path(os.environ.get("ASTROML_SHOT_DIR", tmp_path)) / "spectra_unsupported.png"))


def test_notes_from_a_file_are_shown_as_text(formats_server, page, tmp_path):
    """A note card written into a file (our table's NOTEn) is text on the page, never markup."""
    from astropy.io import fits

    payload = "<img src=x onerror=alert('xss-note')>"
    path = write_simulated(tmp_path / "noted.fits", 5, 4)
    with fits.open(path, mode="update") as hdul:
        hdul[1].header["NOTE1"] = payload
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    url, _ = formats_server
    _open_small_then_upload(page, url)
    _upload(page, "noted.fits", path.read_bytes())
    wait_until(lambda: "4 spectra · classified" in text(page, ".spectra-status") and payload in _notes(page),
               timeout=420, what="the noted file")
    assert page.locator(".spectra-notes img").count() == 0 and not dialogs
