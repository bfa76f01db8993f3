"""The spectral-major copy of a cube: same values as the plain reads, used once built, skipped over its budget."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.data import open_cube
from astroml_core.data.spectral_copy import _COPIES, budget_bytes
from tests.conftest import ramp_cube


@pytest.fixture(autouse=True)
def _no_shared_copies():
    """Each test starts with no copies in the process-wide registry (copies are shared per file)."""
    _COPIES.clear()
    yield
    _COPIES.clear()


def _blanked(nchan: int = 23, ny: int = 9, nx: int = 14) -> np.ndarray:
    data = ramp_cube(nchan, ny, nx, seed=3)
    data[:, 2, 3] = np.nan                 # a pixel blank in every channel
    data[5:9, 4, 7] = np.nan               # a pixel blank in a few
    return data


def test_spectra_and_moment0_from_the_copy_equal_the_plain_reads(make_cube):
    data = _blanked()
    cube = open_cube(make_cube(data=data))
    plain_spectra = {(y, x): cube.spectrum(y, x) for y, x in [(0, 0), (2, 3), (4, 7), (8, 13), (5, 1)]}
    plain_maps = [cube.moment0(), cube.moment0((4, 12)), cube.moment0((6, 20), velocity=True)]
    copy = cube.use_spectral_copy()
    assert copy.wait(30) and copy.has_blank
    for (y, x), plain in plain_spectra.items():
        np.testing.assert_array_equal(cube.spectrum(y, x), plain)
        np.testing.assert_array_equal(cube.spectrum(y, x), data[:, y, x])
    for plain, now in zip(plain_maps, [cube.moment0(), cube.moment0((4, 12)), cube.moment0((6, 20), velocity=True)]):
        assert now.unit == plain.unit
        np.testing.assert_allclose(now.value, plain.value, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(plain.value)))
        assert np.isnan(now.value[2, 3]) and np.isnan(plain.value[2, 3])
    expected = np.nansum(data[4:13, 4, 7]) * 3e4     # CDELT3 = 30 kHz
    assert cube.moment0((4, 12)).value[4, 7] == pytest.approx(expected, rel=1e-5)


def test_once_built_spectra_no_longer_read_the_file(make_cube):
    cube = open_cube(make_cube(data=_blanked()))
    reads = []
    original = cube._reader.column
    cube._reader.column = lambda *a: reads.append(a) or original(*a)
    cube.spectrum(1, 1)
    assert len(reads) == 1                          # before the copy: one read per channel, from the file
    assert cube.use_spectral_copy().wait(30)
    cube.spectrum(1, 2)
    cube.moment0((0, 5))
    assert len(reads) == 1


def test_a_cube_over_the_budget_gets_no_copy_and_still_reads(make_cube):
    data = _blanked()
    cube = open_cube(make_cube(data=data))
    assert cube.use_spectral_copy(budget=data.nbytes - 1) is None
    np.testing.assert_array_equal(cube.spectrum(4, 7), data[:, 4, 7])
    assert not _COPIES


def test_copies_are_shared_per_file_and_the_oldest_goes_over_the_budget(make_cube, monkeypatch):
    data = _blanked()
    first, again = open_cube(make_cube("a.fits", data=data)), open_cube(make_cube("a.fits", data=data))
    copy = first.use_spectral_copy()
    assert again.use_spectral_copy() is copy        # a second session of the same file builds nothing
    assert copy.wait(30)
    monkeypatch.setenv("ASTROML_SPECTRAL_COPY_MB", str(1.5 * data.nbytes / 2**20))
    assert budget_bytes() < 2 * data.nbytes
    other = open_cube(make_cube("b.fits", data=data[:, ::-1].copy()))
    assert other.use_spectral_copy().wait(30)
    assert len(_COPIES) == 1 and str(other.path) in next(iter(_COPIES))[0]
    np.testing.assert_array_equal(first.spectrum(4, 7), data[:, 4, 7])   # the dropped copy still answers its cube
