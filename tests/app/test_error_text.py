"""What error and warning banners say (issue 34): a plain-language title, never a Python class name or an
unexpected error's own text; an upload by the name its sender gave, never the server's stored name; no
absolute data-root path on the page."""
from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest

from app.components.banner import Banner
from app.components.safe_text import md_text
from astroml_core.errors import TruncatedFITSError

SENT = "my cube (v2).fits"
JUNK = b"SIMPLE  =                    T" + b"\xff" * 5000


@pytest.fixture
def page(data_root):
    """A CubePage over a private data root whose demo is a small simulated cube."""
    from astroml_core.sim.hi import DEMO_CUBE, small_config, write_hi_cube

    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=9, config=small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def _upload(dropper, name: str, data: bytes) -> None:
    """Send ``data`` to the dropper as one chunk, as the browser's FilePond does."""
    dropper._process_event(SimpleNamespace(event_name="upload_event", data={
        "name": name, "chunk": 1, "total_chunks": 1, "type": "", "data": data}))


def test_a_corrupt_upload_is_named_as_sent_with_a_title_and_no_class_name_or_server_path(page, data_root):
    before = page.cube
    _upload(page.source.dropper, SENT, JUNK)
    stored = [p.name for p in (data_root / "uploads").iterdir() if not p.name.startswith(".")]
    assert len(stored) == 1 and stored[0] != SENT                     # the server keeps it under its own name
    text = page.banner.error_text
    assert text.startswith("**Could not read the file**: ") and md_text(SENT) in text, text
    assert "InvalidFITSError" not in text and "Error" not in text
    assert stored[0] not in text and md_text(stored[0]) not in text and str(data_root) not in text
    assert page.cube is before


def test_a_bad_file_under_the_root_is_named_relative_to_it_and_the_root_is_not_shown(page, data_root):
    (data_root / "sub").mkdir()
    (data_root / "sub" / "broken.fits").write_bytes(JUNK)
    assert str(data_root) not in page.source.path_input.label            # was "Path under the data root (/…)"
    page.source.open_path(str(data_root / "sub" / "broken.fits"))        # typed in full: still not echoed
    text = page.banner.error_text
    assert "Could not read the file" in text and r"broken\.fits" in text
    assert str(data_root) not in text and md_text(str(data_root)) not in text and "InvalidFITSError" not in text


def test_a_typed_error_shows_its_title_and_message_and_paths_under_the_root_relative(data_root):
    banner = Banner()
    banner.error(TruncatedFITSError(f"{data_root}/deep/x.fits ends before its data"))
    assert banner.error_text == r"**The file is cut short**: deep/x\.fits ends before its data"


def test_an_unexpected_error_shows_a_reference_to_quote_and_logs_the_details(caplog):
    banner = Banner()
    with caplog.at_level(logging.ERROR, logger="app.components.banner"):
        banner.error(ValueError("operands could not be broadcast at /srv/astroml/app/x.py"))
    text = banner.error_text
    ref = re.search(r"reference ([0-9a-f]{6})", text)
    assert ref and text.startswith("**Something went wrong on the server** (reference ") and "session goes on" in text
    assert "ValueError" not in text and "broadcast" not in text and "/srv" not in text and "Internal" not in text
    logged = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info[0] is ValueError           # the server log has it, by reference


def test_warnings_name_an_upload_as_sent(data_root):
    from astroml_core.data.shown_paths import forget_upload, register_upload

    stored = data_root / "uploads" / "abcdef012345_my_cube_v2_.fits"
    register_upload(stored, SENT)
    try:
        banner = Banner()
        banner.warn([f"{stored.name}: BUNIT 'JY/BEAM' read as Jy/beam", f"{data_root}/demo/a.fits: no WCS"])
        shown = banner._warning.object
        assert md_text(SENT) in shown and r"demo/a\.fits" in shown
        assert "abcdef012345" not in shown and str(data_root) not in shown
    finally:
        forget_upload(stored)


def test_the_landing_page_does_not_show_the_server_data_root(data_root):
    from app.pages.landing import LandingPage

    card = LandingPage._server()
    text = card.objects[0].object
    assert "FITS file" in text and str(data_root) not in text
