"""data.paths and data.uploads: only files under the data root open, FITS listing, and safe size-checked uploads."""
from __future__ import annotations

import os

import pytest

from astroml_core.data import list_fits, resolve_under_root, save_upload
from astroml_core.errors import PathNotAllowedError, TooLargeError


@pytest.fixture
def root(tmp_path):
    """A data root holding demo/cube.fits, next to an outside/secret.fits it must not reach."""
    data = tmp_path / "data"
    (data / "demo").mkdir(parents=True)
    (data / "demo" / "cube.fits").write_bytes(b"SIMPLE  = T")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.fits").write_bytes(b"secret")
    return data


# --- resolve_under_root --------------------------------------------------------------------------------
def test_relative_path_under_root_resolves_to_the_real_file(root):
    assert resolve_under_root("demo/cube.fits", root) == (root / "demo" / "cube.fits").resolve()


def test_absolute_path_under_root_is_accepted(root):
    target = (root / "demo" / "cube.fits").resolve()
    assert resolve_under_root(str(target), root) == target


def test_dotdot_inside_root_that_stays_inside_is_accepted(root):
    assert resolve_under_root("demo/../demo/cube.fits", root) == (root / "demo" / "cube.fits").resolve()


@pytest.mark.parametrize("path", ["../outside/secret.fits", "demo/../../outside/secret.fits",
                                  "demo/../../../../../../etc/passwd"])
def test_dotdot_escape_is_refused(root, path):
    with pytest.raises(PathNotAllowedError, match="outside the data root"):
        resolve_under_root(path, root)


def test_absolute_path_outside_root_is_refused(root, tmp_path):
    with pytest.raises(PathNotAllowedError, match="data root"):
        resolve_under_root(str(tmp_path / "outside" / "secret.fits"), root)


def test_symlink_inside_root_pointing_outside_is_refused(root, tmp_path):
    (root / "demo" / "link.fits").symlink_to(tmp_path / "outside" / "secret.fits")
    (root / "escape").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(PathNotAllowedError, match="data root"):
        resolve_under_root("demo/link.fits", root)
    with pytest.raises(PathNotAllowedError, match="data root"):
        resolve_under_root("escape/secret.fits", root)


def test_symlink_inside_root_pointing_inside_resolves_to_its_target(root):
    (root / "alias.fits").symlink_to(root / "demo" / "cube.fits")
    assert resolve_under_root("alias.fits", root) == (root / "demo" / "cube.fits").resolve()


def test_root_reached_through_a_symlink_still_accepts_its_files(root, tmp_path):
    (tmp_path / "root_link").symlink_to(root, target_is_directory=True)
    assert resolve_under_root("demo/cube.fits", tmp_path / "root_link") == (root / "demo" / "cube.fits").resolve()


@pytest.mark.parametrize("path", ["demo/missing.fits", "demo", "."])
def test_missing_files_and_folders_are_refused(root, path):
    with pytest.raises(PathNotAllowedError, match="not a file under the data root"):
        resolve_under_root(path, root)


# --- list_fits -----------------------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    names = ["b.fits", "a/z.fits.gz", "a/y.FITS", "a/notes.txt", "c/d/deep.fits", "c/d/image.png",
             ".hidden/h.fits", "a/cube.fits.bak"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return root


def test_list_fits_finds_fits_and_gzipped_fits_in_subfolders(tree):
    found = list_fits(tree)
    assert set(found) == {"b.fits", os.path.join("a", "z.fits.gz"), os.path.join("a", "y.FITS"),
                          os.path.join("c", "d", "deep.fits")}


def test_private_folders_are_neither_listed_nor_opened(tree):
    """Another session's upload (or a cache) under the data root can be neither seen nor named."""
    (tree / "uploads").mkdir()
    (tree / "uploads" / "0123abcd_theirs.fits").write_bytes(b"x")
    assert os.path.join("uploads", "0123abcd_theirs.fits") in list_fits(tree)
    assert not any(p.startswith("uploads") for p in list_fits(tree, private=(tree / "uploads", tree / "c")))
    assert "b.fits" in list_fits(tree, private=(tree / "uploads",))
    with pytest.raises(PathNotAllowedError, match="not a file under the data root"):
        resolve_under_root("uploads/0123abcd_theirs.fits", tree, private=(tree / "uploads",))
    with pytest.raises(PathNotAllowedError, match="not a file under the data root"):
        resolve_under_root("a/../uploads/0123abcd_theirs.fits", tree, private=(tree / "uploads",))
    assert resolve_under_root("b.fits", tree, private=(tree / "uploads",)) == (tree / "b.fits").resolve()


def test_list_fits_skips_hidden_folders_and_other_files(tree):
    found = list_fits(tree)
    assert not any(".hidden" in f or f.endswith((".txt", ".png", ".bak")) for f in found)


def test_list_fits_respects_the_limit(tree):
    assert len(list_fits(tree, limit=2)) == 2
    assert set(list_fits(tree, limit=2)) <= set(list_fits(tree))


def test_list_fits_of_a_missing_folder_is_empty(tmp_path):
    assert list_fits(tmp_path / "nope") == []


def test_list_fits_returns_paths_sorted(tree):
    found = list_fits(tree)
    assert found == sorted(found)


# --- save_upload ---------------------------------------------------------------------------------------
def test_upload_is_written_under_the_folder_with_its_bytes(tmp_path):
    folder = tmp_path / "uploads"
    path = save_upload("my cube (1).fits", b"SIMPLE  = T", folder, max_bytes=100)
    assert path.parent == folder and path.read_bytes() == b"SIMPLE  = T"
    assert path.name.endswith("_my_cube_1_.fits")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..\\..\\evil.fits", "..", "", "a/../../b.fits"])
def test_upload_name_never_chooses_the_directory(tmp_path, name):
    folder = tmp_path / "uploads"
    path = save_upload(name, b"data", folder, max_bytes=100)
    assert path.resolve().parent == folder.resolve()
    assert path.read_bytes() == b"data"
    assert "/" not in path.name and "\\" not in path.name and path.name not in (".", "..")
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == [path]


def test_two_uploads_with_the_same_name_do_not_overwrite(tmp_path):
    a = save_upload("cube.fits", b"one", tmp_path, max_bytes=10)
    b = save_upload("cube.fits", b"two", tmp_path, max_bytes=10)
    assert a != b and a.read_bytes() == b"one" and b.read_bytes() == b"two"


def test_upload_above_the_limit_raises_and_writes_nothing(tmp_path):
    folder = tmp_path / "uploads"
    with pytest.raises(TooLargeError, match="upload limit"):
        save_upload("big.fits", b"x" * 101, folder, max_bytes=100)
    assert not folder.exists() or not any(folder.iterdir())


def test_upload_exactly_at_the_limit_is_accepted(tmp_path):
    assert save_upload("ok.fits", b"x" * 100, tmp_path, max_bytes=100).stat().st_size == 100
