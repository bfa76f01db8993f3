"""Uploads are limited on the server: a file over the limit, sent by a browser whose own size check is
switched off, is refused after its first chunk with little server memory spent and nothing left on disk;
chunks are counted as they arrive (a client that lies about its size is cut off at the limit); each session
has a quota; and with ``ASTROML_UPLOADS=users`` guests cannot upload (the widget is disabled, and the
server refuses the chunks of a client that enables it), while a logged-in user can."""
from __future__ import annotations

import io
import os
import stat
import threading
import time
from types import SimpleNamespace

import pytest
from astropy.io import fits

from app.components.upload import StreamingFileDropper, SessionQuota, websocket_max_message_bytes
from astroml_core.errors import InvalidFITSError, NotLoggedInError, TooLargeError
from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import open_cube_page, text, wait_until
from tests.conftest import ramp_cube, sdc2_header

MB = 2**20

# the page's FileDropper model, found in the Bokeh document; its browser-side size check switched off
NO_BROWSER_CHECK = """() => { let n = 0; for (const doc of Bokeh.documents) for (const m of doc.all_models)
  if (m.constructor.__name__ === 'FileDropper') { m.max_file_size = null; m.disabled = false; n++ } return n }"""
DROPPERS_DISABLED = """() => { const out = []; for (const doc of Bokeh.documents) for (const m of doc.all_models)
  if (m.constructor.__name__ === 'FileDropper') out.push(m.disabled); return out }"""
ITEM_STATE = """() => { const out = []; const walk = root => { for (const el of root.querySelectorAll('*')) {
  if (el.classList.contains('filepond--item')) out.push(el.getAttribute('data-filepond-item-state'));
  if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document); return out }"""


def _rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _cpu_ticks(pid: int) -> int:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])            # utime + stime


def _wait_quiet(pid: int, timeout: float = 420.0) -> None:
    """Wait until the server has finished its start-up work (the demo survey's analysis and maps, run in
    the background): under 10% of a core and under 3 MB of RSS change over 5 s."""
    deadline = time.time() + timeout
    tick = os.sysconf("SC_CLK_TCK")
    while time.time() < deadline:
        cpu, rss = _cpu_ticks(pid), _rss(pid)
        time.sleep(5)
        if _cpu_ticks(pid) - cpu < 0.5 * tick and abs(_rss(pid) - rss) < 3 * MB:
            return
    pytest.fail(f"the server was still busy {timeout:.0f} s after start: its memory cannot be measured")


def _small_cube() -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(ramp_cube(), sdc2_header()).writeto(buffer)
    return buffer.getvalue()


def _leftovers(root) -> list[str]:
    folder = root / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the widget without a browser: every chunk counted before it is written ------------------------------
def _chunk(name: str, chunk: int, total: int, data: bytes):
    return SimpleNamespace(event_name="upload_event",
                           data={"name": name, "chunk": chunk, "total_chunks": total, "type": "", "data": data})


@pytest.fixture
def dropper(tmp_path):
    def make(max_bytes=10 * MB, quota=100 * MB, allowed=lambda: True):
        got, errors = [], []
        w = StreamingFileDropper(folder=tmp_path, max_bytes=max_bytes, quota=SessionQuota(quota),
                                 on_files=got.extend, on_error=errors.append, allowed=allowed)
        return w, got, errors

    return make


def test_chunks_stream_to_a_private_file_that_opens_under_a_sanitised_name(dropper, tmp_path):
    w, got, errors = dropper()
    w._process_event(_chunk("../../<img src=x onerror=alert(1)>.fits", 1, 2, b"a" * 1000))
    assert got == [] and len(list(tmp_path.iterdir())) == 1          # only the part-file so far
    w._process_event(_chunk("../../<img src=x onerror=alert(1)>.fits", 2, 2, b"b" * 10))
    assert errors == [] and len(got) == 1
    path, name = got[0]
    assert name == "../../<img src=x onerror=alert(1)>.fits"          # kept as text, for the label only
    assert path.parent == tmp_path and "/" not in path.name and "<" not in path.name and " " not in path.name
    assert path.read_bytes() == b"a" * 1000 + b"b" * 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert w.value == {}                                              # nothing kept in memory


def test_a_client_lying_about_its_size_is_cut_off_at_the_limit(dropper, tmp_path):
    w, got, errors = dropper(max_bytes=10 * MB)
    w._process_event(_chunk("big.fits", 1, 2, b"x" * (6 * MB)))        # announces ≤ 2 chunks of 4 MB
    w._process_event(_chunk("big.fits", 2, 2, b"x" * (6 * MB)))        # 12 MB > 10 MB
    assert got == [] and len(errors) == 1 and isinstance(errors[0], TooLargeError)
    assert "upload limit of 10 MB" in str(errors[0])
    assert list(tmp_path.iterdir()) == []                             # the part-file is gone
    w._process_event(_chunk("big.fits", 3, 5, b"x" * MB))              # the rest is dropped unread
    assert len(errors) == 1 and list(tmp_path.iterdir()) == []


def test_an_announced_size_over_the_limit_is_refused_before_anything_is_written(dropper, tmp_path):
    w, got, errors = dropper(max_bytes=10 * MB)
    w._process_event(_chunk("huge.fits", 1, 500, b"x" * 10))
    assert [type(e) for e in errors] == [TooLargeError] and "at least" in str(errors[0])
    assert list(tmp_path.iterdir()) == [] and got == []


def test_the_session_quota_refuses_further_uploads(dropper, tmp_path):
    w, got, errors = dropper(max_bytes=3 * MB, quota=5 * MB)
    for k in range(3):
        w._process_event(_chunk(f"f{k}.fits", 1, 1, b"x" * (2 * MB)))
    assert len(got) == 2 and len(errors) == 1 and "of its 5 MB" in str(errors[0])
    assert sorted(p.name.split("_", 1)[1] for p in tmp_path.iterdir()) == ["f0.fits", "f1.fits"]


def test_refused_when_not_allowed_and_out_of_order_chunks_are_refused(dropper, tmp_path):
    w, got, errors = dropper(allowed=lambda: False)
    w._process_event(_chunk("a.fits", 1, 1, b"SIMPLE"))
    assert isinstance(errors[-1], NotLoggedInError) and "log in to upload" in str(errors[-1])
    w2, got2, errors2 = dropper()
    w2._process_event(_chunk("b.fits", 2, 3, b"x"))
    w2._process_event(_chunk("c.fits", 1, 3, b"x"))
    w2._process_event(_chunk("c.fits", 3, 3, b"x"))
    assert [type(e) for e in errors2] == [InvalidFITSError, InvalidFITSError]
    assert got == got2 == [] and list(tmp_path.iterdir()) == []


def test_files_dropped_together_are_handed_over_as_one_growing_set(tmp_path):
    sets = []
    w = StreamingFileDropper(folder=tmp_path, max_bytes=10 * MB, quota=SessionQuota(10 * MB), on_files=sets.append,
                             on_error=lambda exc: pytest.fail(str(exc)), multiple=True)
    w._process_event(_chunk("a.fits", 1, 1, b"a"))
    w._process_event(_chunk("b.fits", 1, 2, b"b"))
    w._process_event(_chunk("c.fits", 1, 1, b"c"))               # finishes while b is still arriving
    w._process_event(_chunk("b.fits", 2, 2, b"b"))
    assert [[name for _, name in files] for files in sets] == [["a.fits"], ["a.fits", "c.fits", "b.fits"]]


def test_the_websocket_limit_is_one_chunk_and_a_margin():
    assert 4 * MB < websocket_max_message_bytes() <= 8 * MB


# --- in Chromium against a served app ---------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("upload-data")
    proc, url = start_server(root)                    # ASTROML_MAX_UPLOAD_MB=50
    yield proc, url, root
    stop_server(proc)


@pytest.mark.browser
def test_oversized_upload_with_the_browser_check_bypassed_is_refused_with_little_memory(served, page, tmp_path):
    proc, url, root = served
    open_cube_page(page, url)
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    page.locator("input.filepond--browser").wait_for(state="attached")
    assert page.evaluate(NO_BROWSER_CHECK) == 1
    big = tmp_path / "huge_cube.fits"
    with open(big, "wb") as f:                         # 120 MB against the server's 50 MB
        f.write(fits.PrimaryHDU(ramp_cube(), sdc2_header()).header.tostring().encode())
        f.truncate(120 * MB)
    _wait_quiet(proc.pid)
    before = _rss(proc.pid)
    peak, stop = [before], threading.Event()

    def sample():
        while not stop.is_set():
            peak.append(_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        page.locator("input.filepond--browser").set_input_files(str(big))
        wait_until(lambda: "Too large" in text(page, ".error-banner"), timeout=60, what="the refusal")
        # the browser goes on sending its chunks: wait until it has sent them all
        wait_until(lambda: (s := page.evaluate(ITEM_STATE)) and not any(x.endswith("processing") for x in s) and s,
                   timeout=120, what="the browser to finish sending")
        time.sleep(1.0)
    finally:
        stop.set()
        sampler.join()
    growth = max(peak) - before
    print(f"server RSS before {before / MB:.0f} MB, peak {max(peak) / MB:.0f} MB: +{growth / MB:.1f} MB "
          f"for a 120 MB upload against a 50 MB limit")
    assert growth < 50 * MB
    banner = text(page, ".error-banner")
    assert "upload limit of 50 MB" in banner and "huge_cube.fits" in banner
    assert _leftovers(root) == []                      # no part-file left behind
    # the session goes on: a normal upload still opens
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": "small.fits", "mimeType": "application/fits", "buffer": _small_cube()}])
    wait_until(lambda: "upload: small.fits" in text(page, ".page-title"), timeout=30, what="the small upload")
    assert [n.split("_", 1)[1] for n in _leftovers(root)] == ["small.fits"]


@pytest.fixture(scope="module")
def users_only(tmp_path_factory):
    from astroml_core.vetting import VettingStore

    root = tmp_path_factory.mktemp("upload-users-data")
    store = VettingStore(f"sqlite:///{root / 'vetting.sqlite'}")
    store.add_user("uma", "uma-password", "vetter")
    store.dispose()
    proc, url = start_server(root, ASTROML_UPLOADS="users")
    yield url, root
    stop_server(proc)


@pytest.mark.browser
def test_guests_cannot_upload_when_uploads_need_a_login(users_only, page):
    url, root = users_only
    open_cube_page(page, url)
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    wait_until(lambda: "Log in to upload" in text(page, ".upload-note"), what="the log-in note")
    wait_until(lambda: page.evaluate(DROPPERS_DISABLED), what="the dropper (it joins the page with Upload)")
    assert page.evaluate(DROPPERS_DISABLED) == [True]
    assert page.locator("input.filepond--browser").count() == 0        # FilePond offers no file input
    # a client that enables the widget itself is refused by the server
    assert page.evaluate(NO_BROWSER_CHECK) == 1
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": "guest.fits", "mimeType": "application/fits", "buffer": _small_cube()}])
    wait_until(lambda: "Log in first" in text(page, ".error-banner"), timeout=30, what="the refusal")
    assert "log in to upload" in text(page, ".error-banner")
    assert _leftovers(root) == []


@pytest.mark.browser
def test_a_logged_in_user_can_upload_when_uploads_need_a_login(users_only, browser):
    from tests.app.test_vetting_page import login

    url, root = users_only
    page = login(browser, url, "uma")
    try:
        open_cube_page(page, url)
        page.locator(".source-choice .bk-btn", has_text="Upload").click()
        wait_until(lambda: page.evaluate(DROPPERS_DISABLED), what="the dropper (it joins the page with Upload)")
        assert page.evaluate(DROPPERS_DISABLED) == [False]
        page.locator("input.filepond--browser").set_input_files(
            files=[{"name": "mine.fits", "mimeType": "application/fits", "buffer": _small_cube()}])
        wait_until(lambda: "upload: mine.fits" in text(page, ".page-title"), timeout=30, what="the upload")
        assert any(n.endswith("_mine.fits") for n in _leftovers(root))
    finally:
        page.context.close()
