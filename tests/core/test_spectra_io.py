"""Spectra files: our table round-trips; SDSS spec files land on the grid; bad files raise typed errors."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.cli import main as cli
from astroml_core.data.spectra import SpectrumSet, open_sdss_spec, open_spectra, write_spectra
from astroml_core.errors import InvalidFITSError, ShapeError, TooLargeError, TruncatedFITSError
from astroml_core.sim.spectra import loglam_grid, simulate_spectra


def _sdss_file(path, loglam0: float, n: int, cls="GALAXY", sub="STARFORMING", z=0.1):
    """A minimal SDSS spec-PLATE-MJD-FIBER.fits: COADD per-pixel table, SPECOBJ row."""
    loglam = loglam0 + 1e-4 * np.arange(n)
    rng = np.random.default_rng(0)
    coadd = fits.BinTableHDU.from_columns([
        fits.Column("flux", "E", array=rng.normal(5, 1, n)), fits.Column("loglam", "E", array=loglam),
        fits.Column("ivar", "E", array=np.full(n, 4.0)), fits.Column("and_mask", "J", array=np.zeros(n, int))],
        name="COADD")
    obj = fits.BinTableHDU.from_columns([fits.Column("CLASS", "6A", array=[cls]),
                                         fits.Column("SUBCLASS", "21A", array=[sub]),
                                         fits.Column("Z", "E", array=[z])], name="SPECOBJ")
    fits.HDUList([fits.PrimaryHDU(), coadd, obj]).writeto(path)
    return path, loglam


def test_our_table_round_trips(tmp_path):
    path = tmp_path / "s.fits"
    assert cli(["sim", "spectra", "--seed", "3", "-n", "40", "-o", str(path), "--unexpected", "0.5"]) == 0
    s = open_spectra(path)
    assert len(s) == 40 and s.flux.shape == (40, 3840)
    assert np.allclose(s.loglam, loglam_grid())
    assert set(s.meta) >= {"true_class", "z", "snr"}
    assert any(c in ("BAL_QSO", "WHITE_DWARF", "CARBON_STAR", "ARTEFACT") for c in s.meta["true_class"])
    flux, ivar = s.rows(slice(0, 5))
    assert flux.dtype == np.float32 and flux.shape == (5, 3840) and (ivar >= 0).all()
    assert s.ids[0] == "sim-3-0000000"


def test_nan_pixels_become_no_data(tmp_path):
    sim = simulate_spectra(4, 3)
    flux = sim.flux.copy()
    flux[0, 100:110] = np.nan
    path = write_spectra(tmp_path / "nan.fits", SpectrumSet(sim.loglam, flux, sim.ivar, None, np.array(["a", "b", "c"])))
    f, iv = open_spectra(path).rows(slice(0, 1))
    assert (f[0, 100:110] == 0).all() and (iv[0, 100:110] == 0).all() and np.isfinite(f).all()


def test_sdss_spec_files_are_placed_on_the_grid_by_their_offset(tmp_path):
    grid = loglam_grid()
    p1, lam1 = _sdss_file(tmp_path / "spec-1-2-3.fits", grid[0] - 0.0050, 4000)        # starts 50 px blueward
    p2, lam2 = _sdss_file(tmp_path / "spec-4-5-6.fits", grid[0] + 0.0100, 3000, "STAR", "K1", 0.0)
    s = open_sdss_spec([p1, p2])
    assert s.flux.shape == (2, 3840)
    f1 = fits.getdata(p1, "COADD")["flux"]
    assert np.allclose(s.flux[0, :100], f1[50:150])          # pixel 0 of the grid is pixel 50 of the file
    assert (s.ivar[1, :100] == 0).all() and s.ivar[1, 100] == 4.0
    assert list(s.meta["sdss_class"]) == ["GALAXY", "STAR"]
    one = open_spectra(p1)
    assert one.ids[0] == "spec-1-2-3"


def test_not_fits_is_invalid(tmp_path):
    path = tmp_path / "x.fits"
    path.write_bytes(b"hello, not a FITS file" * 100)
    with pytest.raises(InvalidFITSError, match="not a FITS file"):
        open_spectra(path)


def test_truncated_table_is_reported(tmp_path):
    path = tmp_path / "t.fits"
    cli(["sim", "spectra", "--seed", "1", "-n", "20", "-o", str(path)])
    data = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFITSError, match="truncated"):
        open_spectra(cut)


def test_table_without_flux_or_image_only_is_a_shape_error(tmp_path):
    path = tmp_path / "img.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4))),
                  fits.BinTableHDU.from_columns([fits.Column("A", "E", array=[1.0])])]).writeto(path)
    with pytest.raises(ShapeError, match="FLUX"):
        open_spectra(path)


def test_size_limit(tmp_path):
    path = tmp_path / "s.fits"
    cli(["sim", "spectra", "--seed", "1", "-n", "10", "-o", str(path)])
    with pytest.raises(TooLargeError):
        open_spectra(path, max_bytes=1000)
