"""A 1 MB .fits.gz that would decompress to 1 GB of NaN is refused as fast as a missing file, by link and by
upload, while a second client keeps getting answers in under 1 s (pages are built off the event loop,
app/offloop.py, so neither the refusal nor the page it is shown on holds other visitors up)."""
from __future__ import annotations

import gzip
import threading
import time
import urllib.request

import numpy as np
import pytest
from astropy.io import fits

from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until

pytestmark = pytest.mark.browser

CHUNK = 16 * 2**20


def write_nan_bomb(path, shape=(512, 1024, 512)) -> int:
    """A gzip file of several members (header, then identical 16 MB blocks of NaN): its last member's
    size field says 16 MB, the whole decompresses to the cube's 1 GiB. Returns the decompressed size."""
    header = fits.PrimaryHDU(np.zeros((1, 1, 1), np.float32)).header
    header["NAXIS1"], header["NAXIS2"], header["NAXIS3"] = shape[::-1]
    block = gzip.compress(np.full(CHUNK // 4, np.nan, ">f4").tobytes(), compresslevel=9)
    n = int(np.prod(shape)) * 4 // CHUNK
    with open(path, "wb") as f:
        f.write(gzip.compress(header.tostring().encode()))
        for _ in range(n):
            f.write(block)
    return 2880 + n * CHUNK


class Prober(threading.Thread):
    """A second visitor: GETs a small file over and over and keeps each answer's time (how long the
    server's event loop keeps everyone else waiting)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.times, self.stop = url, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.perf_counter()
            urllib.request.urlopen(self.url, timeout=30).read()
            self.times.append(time.perf_counter() - t)
            time.sleep(0.05)


@pytest.fixture(scope="module")
def bomb_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("bomb-data")
    size = write_nan_bomb(root / "bomb.fits.gz")
    assert (root / "bomb.fits.gz").stat().st_size < 2 * 2**20 and size > 2**30
    proc, url = start_server(root)
    for page in ("/cubes", "/cubes"):           # the first page of a fresh server pays its imports
        urllib.request.urlopen(url + page, timeout=120).read()
    yield url, root
    stop_server(proc)


def _refused_while_others_answer(page, url: str, act, name: str = "bomb") -> tuple[float, float]:
    """(seconds until the error banner names ``name``, slowest answer the second visitor got meanwhile)."""
    prober = Prober(url + "/favicon.ico")
    prober.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    act()
    wait_until(lambda: name in text(page, ".error-banner"), timeout=120, what="the refusal")
    refused = time.perf_counter() - t0
    time.sleep(0.5)
    prober.stop.set()
    prober.join(35)
    return refused, max(prober.times)


def test_gzip_bomb_link_is_refused_fast_while_others_answer(bomb_server, page):
    url, _ = bomb_server
    normal, bomb = [], []
    for _ in range(3):            # alternate, so both see the same machine
        normal.append(_refused_while_others_answer(page, url, lambda: page.goto(url + "/cubes?file=missing.fits"),
                                                   name="missing"))
        bomb.append(_refused_while_others_answer(page, url, lambda: page.goto(url + "/cubes?file=bomb.fits.gz")))
        assert "The compressed file would expand too far" in text(page, ".error-banner")
    (refused, slowest), (opened, usual) = np.median(bomb, axis=0), np.median(normal, axis=0)
    print(f"link (medians of 3): bomb refused {refused:.2f} s after the link was opened (a missing file: "
          f"{opened:.2f} s; both include the page load); slowest other answer {slowest:.3f} s (while a page "
          f"loads: {usual:.3f} s)")
    assert refused - opened < 2.0, (refused, opened)
    # the bomb held the loop 113 s before; building the page on the loop held it 0.7-1.2 s
    assert slowest < 1.0, (slowest, usual)


def _upload(page, name: str, content: bytes) -> None:
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": name, "mimeType": "application/gzip", "buffer": content}])


def test_gzip_bomb_upload_is_refused_fast_while_others_answer(bomb_server, page):
    url, root = bomb_server
    page.goto(url + "/cubes")
    page.wait_for_selector(".channel-label >> text=MHz")
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    junk = gzip.compress(b"not FITS at all" * 100)
    normal, _ = _refused_while_others_answer(page, url, lambda: _upload(page, "junk.fits.gz", junk), name="junk")
    refused, slowest = _refused_while_others_answer(
        page, url, lambda: _upload(page, "bomb.fits.gz", (root / "bomb.fits.gz").read_bytes()))
    assert "The compressed file would expand too far" in text(page, ".error-banner")
    print(f"upload: bomb refused {refused:.2f} s after the upload began (1 KB of junk: {normal:.2f} s; both "
          f"include the browser's upload); slowest other answer {slowest:.3f} s")
    assert refused - normal < 2.0, (refused, normal)
    assert slowest < 1.0, slowest         # no page is built meanwhile: only the upload and the refusal
    assert "MHz" in text(page, ".channel-label")        # the demo cube is still shown
