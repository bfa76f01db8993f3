"""Paths as users see them (issue 34): relative to the data root, an upload by its sender's name, never the
server's absolute folders or stored upload names; in messages, in typed errors' titles and in exports."""
from __future__ import annotations

import importlib
import inspect
import json

import numpy as np
import pytest
from astropy.table import QTable, Table

from astroml_core import errors
from astroml_core.data.shown_paths import forget_upload, register_upload, scrub_meta, scrub_text, shown_path


@pytest.fixture
def upload(data_root):
    """An upload stored under the server's unique name, registered with the name its sender gave."""
    stored = data_root / "uploads" / "0a1b2c3d4e5f_my_galaxy_v2_.fits"
    stored.parent.mkdir()
    stored.write_bytes(b"x")
    register_upload(stored, "C:\\Users\\me\\my galaxy (v2).fits")
    yield stored
    forget_upload(stored)


def test_a_path_is_shown_relative_to_the_root_an_upload_by_its_sent_name_anything_else_by_its_name(data_root,
                                                                                                  upload):
    assert shown_path(data_root / "demo" / "cube.fits") == "demo/cube.fits"
    assert shown_path("demo/cube.fits") == "demo/cube.fits"
    assert shown_path(upload) == "my galaxy (v2).fits"                         # the last component only
    assert shown_path(data_root / "uploads" / "ffffffffffff_other.fits") == "other.fits"   # not registered
    assert shown_path("/etc/hosts") == "hosts"
    assert shown_path(None) == "" and shown_path("") == ""
    forget_upload(upload)
    assert shown_path(upload) == "my_galaxy_v2_.fits"


def test_scrub_text_takes_the_root_and_the_stored_upload_names_out_of_a_message(data_root, upload):
    text = (f"{upload.name} ends early; see {upload}; {data_root}/demo/x.fits and {data_root / 'sub'} and "
            f"{data_root}")
    shown = scrub_text(text)
    assert str(data_root) not in shown and "0a1b2c3d4e5f" not in shown and "uploads" not in shown
    assert shown == ("my galaxy (v2).fits ends early; see my galaxy (v2).fits; demo/x.fits and sub and "
                     "the data root")
    assert scrub_text(f"{data_root}2/a.fits") == f"{data_root}2/a.fits"       # another folder is left alone
    assert scrub_text(f"/mnt{data_root}/a.fits") == f"/mnt{data_root}/a.fits"     # and one that ends like it
    assert scrub_text("/srv/x/a.fits", root="/") == "/srv/x/a.fits"
    meta = scrub_meta({"cube": str(upload), "notes": [f"{data_root}/a.fits: repaired"], "n": 3})
    assert meta == {"cube": "my galaxy (v2).fits", "notes": ["a.fits: repaired"], "n": 3}


def test_every_typed_error_has_a_plain_language_title_and_no_class_name_in_it():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.AstroMLError)]
    assert len(classes) >= 25
    for cls in classes:
        assert cls.title and "Error" not in cls.title and "_" not in cls.title, cls
    titles = {c: c.title for c in classes}
    # the families a user must tell apart read differently
    assert len({titles[c] for c in (errors.InvalidFITSError, errors.TooLargeError, errors.PathNotAllowedError,
                                    errors.RegionOffImageError, errors.EmptyRegionError, errors.NotLoggedInError)}) == 6


def test_a_written_table_names_files_relative_to_the_root(data_root, upload, tmp_path):
    from astroml_core.data.tables import write_table

    table = QTable({"id": [1, 2]})
    table.meta.update(cube=str(data_root / "demo" / "hi.fits"), image=str(upload),
                      notes=[f"{upload.name}: BUNIT repaired"])
    for suffix in (".ecsv", ".vot"):
        text = write_table(table, tmp_path / f"t{suffix}").read_text()
        assert str(data_root) not in text and "0a1b2c3d4e5f" not in text
    meta = Table.read(tmp_path / "t.ecsv").meta
    assert meta["cube"] == "demo/hi.fits" and meta["image"] == "my galaxy (v2).fits"
    assert meta["notes"] == ["my galaxy (v2).fits: BUNIT repaired"]
    assert table.meta["cube"] == str(data_root / "demo" / "hi.fits")           # the caller's table is unchanged


def test_hi_detection_meta_and_its_export_name_the_cube_relative_to_the_root(data_root, tmp_path, monkeypatch):
    from astroml_core.data import open_cube
    from astroml_core.sim.hi import small_config, write_hi_cube
    detect_module = importlib.import_module("astroml_core.tasks.hi.detect")
    from astroml_core.tasks.hi.export import write_catalogue

    path = data_root / "surveys" / "field.fits"
    path.parent.mkdir()
    write_hi_cube(path, seed=3, config=small_config())
    # the search itself is not under test here: one found source, as the tiled search returns it
    monkeypatch.setattr(detect_module, "detect_tiled", lambda *a, **k: QTable({"id": [0], "score": [0.97]}))
    table = detect_module.detect(open_cube(path), "baseline")
    assert table.meta["cube"] == "surveys/field.fits"
    text = write_catalogue(table, tmp_path / "cat.ecsv").read_text()
    assert str(data_root) not in text and "surveys/field.fits" in text


def test_a_vetting_export_names_files_relative_to_the_root(data_root, tmp_path):
    from astroml_core.vetting import CandidateIn, VettingStore, encode_preview, write_campaign

    store = VettingStore(f"sqlite:///{data_root / 'vetting.sqlite'}")
    try:
        store.add_user("ann", "ann-password", "admin")
        cube = str(data_root / "demo" / "hi_demo.fits")
        cid = store.create_campaign("ann", "HI", "hi_source", ("real", "false"),
                                    [CandidateIn("s1", {"file": cube, "row": 1}, score=0.9, uncertainty=0.1,
                                                 preview=encode_preview(moment0=np.zeros((5, 5), np.float32)),
                                                 model_label="real")],
                                    model_name="hi_unet", model_version="1", card_sha256="ab" * 32, source=cube)
        for suffix in (".ecsv", ".csv", ".xml"):
            text = write_campaign(store, cid, tmp_path / f"v{suffix}", "ann").read_text()
            assert str(data_root) not in text, suffix
        table = Table.read(tmp_path / "v.ecsv")
        assert table["file"][0] == "demo/hi_demo.fits"
        assert json.loads(table["ref"][0]) == {"file": "demo/hi_demo.fits", "row": 1}
        assert table.meta["source"] == "demo/hi_demo.fits" and table.meta["database"] == "sqlite:///vetting.sqlite"
        assert store.candidates(cid)[0].ref["file"] == cube                     # the store keeps the real path
    finally:
        store.dispose()


def test_fine_tuning_reads_an_exported_file_named_relative_to_the_root(data_root):
    from astroml_core.train import spectra_labels

    assert spectra_labels._under_root("demo/s.fits") == data_root / "demo" / "s.fits"
    assert spectra_labels._under_root(str(data_root / "x.fits")) == data_root / "x.fits"


def test_a_failed_tile_names_the_cube_relative_to_the_root_and_hides_internal_text(data_root):
    from astroml_core.tasks.hi.tiled import _tile_failed

    path = data_root / "deep" / "cube.fits"
    err = _tile_failed(path, "tile 2 of 4", ValueError("secret internals at /opt/app/x.py"))
    assert "deep/cube.fits" in str(err) and str(data_root) not in str(err)
    assert "ValueError" not in str(err) and "secret" not in str(err) and "reference" in str(err)
    assert err.path == str(path)
    typed = _tile_failed(path, "tile 1 of 4", errors.NonFiniteError("the tile holds only NaN"))
    assert str(typed).endswith("the tile holds only NaN") and "NonFiniteError" not in str(typed)


def test_the_cli_prints_a_typed_error_without_its_class_name_and_keeps_its_exit_status(tmp_path, capsys):
    from astroml_core.cli import main

    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"SIMPLE  =                    T" + b"\xff" * 5000)
    assert main(["info", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: junk.fits could not be read as FITS") and "InvalidFITSError" not in err
