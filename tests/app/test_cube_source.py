"""The file chooser says how the open file came in: a link's or typed path shows under "Server path" with the
path in its box, an upload under "Upload", the demo under "Demo" (it used to keep naming the demo file while
another file was open); a refused path changes nothing."""
from __future__ import annotations

import pytest


@pytest.fixture
def chooser(data_root):
    from app.components.cube_source import CubeSource

    (data_root / "demo" / "hi_demo.fits").write_bytes(b"")
    (data_root / "mine").mkdir()
    (data_root / "mine" / "cube.fits").write_bytes(b"")
    opened, errors = [], []
    source = CubeSource(on_path=lambda path, label: opened.append(label), on_error=errors.append)
    return source, opened, errors


def shown(source) -> list[str]:
    return [name for name, pane in source._panes.items() if pane.visible]


def test_a_path_opened_by_link_or_typed_shows_under_server_path(chooser):
    source, opened, errors = chooser
    assert source.choice.value == "Demo" and shown(source) == ["Demo"]
    source.open_path("mine/cube.fits")
    assert opened == ["mine/cube.fits"] and not errors
    assert source.choice.value == "Server path" and shown(source) == ["Server path"]
    assert source.path_input.value == "mine/cube.fits"
    source.open_demo()
    assert source.choice.value == "Demo" and shown(source) == ["Demo"] and opened[-1] == "demo: hi_demo.fits"


def test_an_upload_shows_under_upload_and_a_refused_path_changes_nothing(chooser, data_root):
    source, opened, errors = chooser
    source.open_path("../outside.fits")
    assert len(errors) == 1 and not opened and source.choice.value == "Demo"
    from astroml_core.data.shown_paths import forget_upload

    stored = data_root / "uploads" / "0123456789ab_test_cube_source.fits"
    stored.parent.mkdir(exist_ok=True)
    stored.write_bytes(b"")
    try:
        source._uploaded([(stored, "sent.fits")])
        assert source.choice.value == "Upload" and shown(source) == ["Upload"] and opened == ["upload: sent.fits"]
    finally:
        forget_upload(stored)               # the registry of sent names is the process's: leave it as found
