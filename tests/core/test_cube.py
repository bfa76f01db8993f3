"""open_cube: laziness, world coordinates, archival conventions, and a typed error for every bad input."""
from __future__ import annotations

import os
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from astroml_core.data import open_cube
from astroml_core.errors import (AxisOrderError, InvalidFITSError, NoCelestialWCSWarning, NonFiniteError,
                                 ShapeError, SpectralAxisError, TooLargeError, TruncatedFITSError)
from tests.conftest import ramp_cube, sdc2_header, write_fits


# --- a modern SDC2-like cube ----------------------------------------------------------------------
def test_channel_spectrum_and_shape_match_the_data(make_cube):
    data = ramp_cube()
    cube = open_cube(make_cube(data=data))
    assert cube.shape == data.shape
    np.testing.assert_array_equal(cube.channel(3), data[3])
    np.testing.assert_array_equal(cube.spectrum(5, 7), data[:, 5, 7])
    assert cube.unit == u.Jy / u.beam
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(7.0)
    assert (cube.frequencies[1] - cube.frequencies[0]).to_value(u.Hz) == pytest.approx(30e3)


def test_world_coordinates_match_astropy_wcs(make_cube):
    path = make_cube()
    cube = open_cube(path)
    wcs = WCS(fits.getheader(path))
    for i, y, x in [(0, 0, 0), (4, 3.5, 11.2), (9, 11, 15)]:
        sky, spec = wcs.pixel_to_world(x, y, i)
        got = cube.world(i, y, x)
        assert got.sky.separation(sky).to_value(u.arcsec) < 1e-6
        assert got.frequency.to_value(u.Hz) == pytest.approx(spec.to_value(u.Hz), rel=1e-12)
    # optical velocity of channel 0 from its frequency and the rest frequency
    f0 = cube.frequencies[0]
    assert cube.velocities[0].to_value(u.km / u.s) == pytest.approx(299792.458 * (1.420405752e9 / f0.value - 1))


def test_channel_reads_only_that_plane(make_cube, monkeypatch):
    """Showing a slice never reads the whole cube: count the bytes os.pread returns."""
    data = np.zeros((40, 64, 64), np.float32) + 1
    cube = open_cube(make_cube(data=data))
    read = []
    real = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: read.append(n) or real(fd, n, off))
    cube.channel(17)
    assert sum(read) == 64 * 64 * 4
    read.clear()
    cube.spectrum(10, 10)
    assert sum(read) == 40 * 4


def test_moment0_and_peak_ignore_nan_blanks(make_cube):
    data = ramp_cube()
    data[:, 0, 0] = np.nan          # a fully blank pixel
    data[2:5, 1, 1] = np.nan        # a partly blank spectrum
    cube = open_cube(make_cube(data=data))
    m0 = cube.moment0()
    assert m0.unit == u.Jy / u.beam * u.Hz
    assert np.isnan(m0[0, 0])
    assert m0[1, 1].value == pytest.approx(np.nansum(data[:, 1, 1]) * 3e4, rel=1e-5)
    assert cube.moment0((2, 4))[3, 3].value == pytest.approx(data[2:5, 3, 3].sum() * 3e4, rel=1e-5)
    peak = cube.peak()
    assert peak[1, 1].value == pytest.approx(np.nanmax(data[:, 1, 1]))
    assert np.isnan(peak[0, 0])


# --- 4-D and Stokes --------------------------------------------------------------------------------
@pytest.mark.parametrize("stokes_axis", [4, 3])
def test_degenerate_stokes_cube_opens(make_cube, stokes_axis):
    data = ramp_cube()
    h = sdc2_header()
    if stokes_axis == 4:      # RA, DEC, FREQ, STOKES (most radio cubes)
        arr = data[None]
        h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", 1.0, 1.0, 1.0
    else:                     # RA, DEC, STOKES, FREQ (CASA's order)
        arr = data[:, None]
        for k in ("CTYPE", "CRVAL", "CDELT", "CRPIX", "CUNIT"):
            h[f"{k}4"] = h[f"{k}3"]
        h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "STOKES", 1.0, 1.0, 1.0, ""
    cube = open_cube(make_cube(data=arr, header=h))
    assert cube.shape == data.shape
    np.testing.assert_array_equal(cube.channel(6), data[6])
    np.testing.assert_array_equal(cube.spectrum(2, 3), data[:, 2, 3])


def test_full_stokes_cube_shows_stokes_i(make_cube):
    data = np.stack([ramp_cube(seed=s) for s in range(4)])  # (stokes, chan, y, x)
    h = sdc2_header()
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", -5.0, -1.0, 1.0  # XX, YY, XY, YX...
    h["CRVAL4"], h["CDELT4"] = 1.0, 1.0  # I, Q, U, V
    with pytest.warns(UserWarning, match="Stokes plane 1 of 4"):
        cube = open_cube(make_cube(data=data, header=h))
    np.testing.assert_array_equal(cube.channel(2), data[0, 2])


# --- archival conventions ---------------------------------------------------------------------------
def aips_header() -> fits.Header:
    """An AIPS-era header: NCP projection, FELO-HEL axis in m/s without CUNIT, B1950, beam in HISTORY."""
    h = fits.Header()
    h["BUNIT"] = "JY/BEAM"
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = "RA---NCP", 150.0, -1.1111e-3, 8.0
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "DEC--NCP", 45.0, 1.1111e-3, 6.0
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "FELO-HEL", 1.5e6, -2.0e4, 1.0
    h["RESTFREQ"] = 1.420405752e9
    h["VELREF"] = 2
    h["EPOCH"] = 1950.0
    h.add_history("AIPS   CLEAN BMAJ=  5.0000E-03 BMIN=  4.0000E-03 BPA=  30.00")
    return h


def test_aips_cube_with_ncp_felo_and_history_beam_opens(make_cube):
    data = ramp_cube()
    h = aips_header()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        cube = open_cube(make_cube(data=data, header=h))
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(18.0)
    assert cube.beam.pa.to_value(u.deg) == pytest.approx(30.0)
    assert cube.beam.source == "history"
    assert cube.velocity_convention == "optical"
    assert cube.velocities[0].to_value(u.km / u.s) == pytest.approx(1500.0)
    assert cube.velocities[1].to_value(u.km / u.s) == pytest.approx(1480.0)
    assert cube.frequencies[0].to_value(u.Hz) == pytest.approx(1.420405752e9 / (1 + 1500 / 299792.458))
    assert cube.unit == u.Jy / u.beam
    sky = cube.world(0, 5, 7).sky                    # reference pixel (1-based 8, 6)
    assert sky.separation(SkyCoord(150, 45, unit="deg", frame="fk4", equinox="B1950")).arcsec < 1e-3


def test_velo_lsr_radio_axis_in_m_per_s(make_cube):
    h = sdc2_header()
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CUNIT3"] = "VELO-LSR", 2.0e5, 5.0e3, "M/S"
    h["VELREF"] = 257  # LSR, radio definition
    cube = open_cube(make_cube(header=h))
    assert cube.velocity_convention == "radio"
    assert cube.velocities[2].to_value(u.km / u.s) == pytest.approx(210.0)
    f = cube.frequencies[2].to_value(u.Hz)
    assert f == pytest.approx(1.420405752e9 * (1 - 210 / 299792.458))


def test_galactic_cube_world_is_galactic(make_cube):
    h = sdc2_header()
    h["CTYPE1"], h["CTYPE2"] = "GLON-CAR", "GLAT-CAR"
    h["CRVAL1"], h["CRVAL2"] = 120.0, 5.0
    del h["RADESYS"], h["EQUINOX"]
    cube = open_cube(make_cube(header=h))
    sky = cube.world(0, h["CRPIX2"] - 1, h["CRPIX1"] - 1).sky
    assert sky.frame.name == "galactic"
    assert sky.l.deg == pytest.approx(120.0) and sky.b.deg == pytest.approx(5.0)


def test_integer_cube_with_bscale_and_blank(tmp_path):
    raw = (np.arange(10 * 12 * 16).reshape(10, 12, 16) % 1000).astype(np.int16)
    raw[0, 0, 0] = -32768
    h = sdc2_header()
    hdu = fits.PrimaryHDU(raw, h)
    hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = 0.001, 0.5, -32768
    path = tmp_path / "int.fits"
    hdu.writeto(path)
    cube = open_cube(path)
    ch = cube.channel(0)
    assert np.isnan(ch[0, 0])
    assert ch[0, 1] == pytest.approx(raw[0, 0, 1] * 0.001 + 0.5)


def test_cube_without_celestial_wcs_opens_in_pixels_with_a_warning(make_cube):
    h = sdc2_header()
    h["CTYPE1"], h["CTYPE2"] = "", ""
    with pytest.warns(NoCelestialWCSWarning, match="pixel coordinates"):
        cube = open_cube(make_cube(header=h))
    assert not cube.has_sky and cube.world(0, 1, 1).sky is None
    assert any("pixel coordinates" in n for n in cube.warnings)


# --- bad input: each gets its typed error -------------------------------------------------------------
def test_not_fits_raises_invalid_fits(tmp_path):
    path = tmp_path / "notes.fits"
    path.write_text("this is not a FITS file\n" * 200)
    with pytest.raises(InvalidFITSError, match="not a FITS file"):
        open_cube(path)


def test_corrupt_header_raises_invalid_fits(tmp_path):
    path = tmp_path / "corrupt.fits"
    path.write_bytes(b"SIMPLE  =                    T" + b"\x00\xff" * 3000)
    with pytest.raises(InvalidFITSError):
        open_cube(path)


def test_truncated_fits_raises_truncated(make_cube):
    path = make_cube()
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size - 4000)
    with pytest.raises(TruncatedFITSError, match="truncated"):
        open_cube(path)


def test_two_d_image_raises_shape_error(tmp_path):
    h = sdc2_header()
    path = write_fits(tmp_path / "image.fits", np.ones((12, 16), np.float32), WCS(h).celestial.to_header())
    with pytest.raises(ShapeError, match="2-D image"):
        open_cube(path)


def test_spectral_axis_first_raises_axis_order_error(make_cube):
    h = fits.Header()
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"], h["CUNIT1"] = "FREQ", 1.1e9, 3e4, 1.0, "Hz"
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "RA---SIN", 180.0, -7.8e-4, 6.0
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "DEC--SIN", -30.0, 7.8e-4, 5.0
    with pytest.raises(AxisOrderError, match="expected"):
        open_cube(make_cube(data=np.ones((10, 12, 16), np.float32), header=h))


def test_no_spectral_axis_raises_spectral_axis_error(make_cube):
    h = sdc2_header()
    h["CTYPE3"], h["CUNIT3"] = "LINEAR", ""
    with pytest.raises(SpectralAxisError, match="no spectral axis"):
        open_cube(make_cube(header=h))


def test_header_without_any_wcs_raises_spectral_axis_error(tmp_path):
    path = write_fits(tmp_path / "bare.fits", ramp_cube(), fits.Header())
    with pytest.raises(SpectralAxisError):
        open_cube(path)


def test_all_nan_cube_raises_non_finite(make_cube):
    with pytest.raises(NonFiniteError, match="NaN"):
        open_cube(make_cube(data=np.full((10, 12, 16), np.nan, np.float32)))


def test_mostly_blank_cube_with_one_finite_channel_opens(make_cube):
    data = np.full((30, 12, 16), np.nan, np.float32)
    data[13] = 1.0   # not among the probed channels
    assert open_cube(make_cube(data=data)).channel(13).sum() == 12 * 16


def test_file_above_the_limit_raises_too_large(make_cube, monkeypatch):
    path = make_cube()
    with pytest.raises(TooLargeError, match="above the limit"):
        open_cube(path, max_bytes=1000)
    monkeypatch.setenv("ASTROML_MAX_CUBE_GB", str(1000 / 2**30))
    with pytest.raises(TooLargeError):
        open_cube(path)


def test_channel_out_of_range_raises_shape_error(make_cube):
    cube = open_cube(make_cube())
    with pytest.raises(ShapeError, match="outside"):
        cube.channel(10)
    with pytest.raises(ShapeError, match="outside"):
        cube.spectrum(12, 0)
