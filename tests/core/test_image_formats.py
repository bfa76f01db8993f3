"""Images written from scratch in each convention astronomers use: flux units and zero points, band-name cards,
band-axis cubes, auxiliary extensions and separate files per band. Expected fluxes come from astropy's units
(AB magnitudes, spectral_density), not from our code."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astroml_core.data import open_multiband
from astroml_core.errors import ShapeError

N = 32


def _wcs_header(crpix: float = 16.5, crval1: float = 150.0) -> fits.Header:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crpix, w.wcs.crval, w.wcs.cdelt = [crpix, 16.5], [crval1, 2.0], [-0.2 / 3600, 0.2 / 3600]
    return w.to_header()


def _write(path, cards: dict, value: float = 1.0, *, wcs: bool = True, extra=None):
    """A N×N image of ``value`` with a few noisy pixels (so its noise is measurable), header ``cards``."""
    rng = np.random.default_rng(0)
    data = np.full((N, N), value, np.float32) + rng.normal(0, 1e-3 * abs(value) or 1e-3, (N, N)).astype(np.float32)
    header = _wcs_header() if wcs else fits.Header()
    for key, card in cards.items():
        header[key] = card
    fits.HDUList([fits.PrimaryHDU(data, header)] + list(extra or [])).writeto(path)
    return path


def _one(path, cards, value=1.0, **kw):
    image = open_multiband(_write(path, cards, value, **kw))
    return image, float(np.median(image.data[0]))


@pytest.mark.parametrize("bunit, njy", [("nJy", 1.0), ("uJy", 1e3), ("mJy", 1e6), ("Jy", 1e9), ("Jy/pixel", 1e9),
                                        ("nanomaggies", 3631.0), ("nanomaggy", 3631.0), ("maggies", 3631e9)])
def test_flux_density_units_become_nJy(tmp_path, bunit, njy):
    image, value = _one(tmp_path / "f.fits", {"BUNIT": bunit})
    assert image.unit == "nJy" and value == pytest.approx(njy, rel=1e-3)
    assert any(bunit in n for n in image.notes)


def test_surface_brightness_is_multiplied_by_the_pixel_solid_angle(tmp_path):
    pixel_sr = ((0.2 * u.arcsec) ** 2).to_value(u.sr)
    image, value = _one(tmp_path / "wcs.fits", {"BUNIT": "MJy/sr"}, value=2.0)
    assert image.unit == "nJy" and value == pytest.approx(2 * 1e6 * 1e9 * pixel_sr, rel=1e-3)
    image, value = _one(tmp_path / "jwst.fits", {"BUNIT": "MJy/sr", "PIXAR_SR": 1e-12}, value=2.0)
    assert value == pytest.approx(2 * 1e15 * 1e-12, rel=1e-3) and any("PIXAR_SR" in n for n in image.notes)
    with pytest.warns(UserWarning, match="no celestial WCS"):
        image, _ = _one(tmp_path / "nowcs.fits", {"BUNIT": "MJy/sr"}, value=2.0, wcs=False)
    assert image.unit == "MJy/sr" and any("no pixel area" in n for n in image.notes)


def test_counts_with_an_AB_zero_point_and_no_exposure_time(tmp_path):
    image, value = _one(tmp_path / "f.fits", {"BUNIT": "ADU", "MAGZERO": 25.0})
    assert image.unit == "nJy" and value == pytest.approx((25 * u.ABmag).to_value(u.nJy), rel=1e-3)
    assert any("MAGZERO = 25" in n and "no EXPTIME" in n for n in image.notes)


@pytest.mark.parametrize("key", ["MAGZERO", "MAGZPT", "ZP", "PHOTZP", "MAGZP"])
def test_counts_are_divided_by_EXPTIME_before_the_zero_point(tmp_path, key):
    image, value = _one(tmp_path / "f.fits", {"BUNIT": "counts", key: 26.0, "EXPTIME": 100.0}, value=50.0)
    assert value == pytest.approx(0.5 * (26 * u.ABmag).to_value(u.nJy), rel=1e-3)
    assert any(f"EXPTIME = 100" in n and key in n for n in image.notes)


@pytest.mark.parametrize("camera, band, offset", [("WFCAM", "K", 1.900), ("WFCAM", "J", 0.938), ("VIRCAM", "Ks", 1.827)])
def test_wfcam_and_vircam_zero_points_are_vega_and_get_the_bands_ab_offset(tmp_path, camera, band, offset):
    """CASU's MAGZPT for UKIDSS and VISTA is a Vega magnitude (Hewett+06, González-Fernández+18)."""
    cards = {"INSTRUME": camera, "FILTER": band, "MAGZPT": 24.0, "EXP_TIME": 10.0}
    image, value = _one(tmp_path / "f.fits", cards, value=20.0)
    assert value == pytest.approx(2.0 * ((24.0 + offset) * u.ABmag).to_value(u.nJy), rel=1e-3)
    assert any(f"(Vega, {camera}) + {offset:.3f}" in n for n in image.notes)
    image, value = _one(tmp_path / "g.fits", {**cards, "FILTER": "NB118"}, value=20.0)
    assert value == pytest.approx(2.0 * (24.0 * u.ABmag).to_value(u.nJy), rel=1e-3)
    assert any("no AB offset known for FILTER 'NB118', so Vega" in n for n in image.notes)


def test_a_count_rate_is_not_divided_by_EXPTIME(tmp_path):
    image, value = _one(tmp_path / "f.fits", {"BUNIT": "COUNTS/S", "MAGZPT": 24.0, "EXPTIME": 100.0}, value=2.0)
    assert value == pytest.approx(2 * (24 * u.ABmag).to_value(u.nJy), rel=1e-3)


def test_hst_PHOTFLAM_with_PHOTPLAM_for_counts_per_second_and_for_counts(tmp_path):
    flam, plam = 1.9e-18, 6000.0
    per_rate = (flam * u.erg / u.s / u.cm**2 / u.AA).to_value(u.nJy, u.spectral_density(plam * u.AA))
    image, value = _one(tmp_path / "rate.fits", {"BUNIT": "COUNTS/S", "PHOTFLAM": flam, "PHOTPLAM": plam}, value=3.0)
    assert image.unit == "nJy" and value == pytest.approx(3 * per_rate, rel=1e-3)
    image, value = _one(tmp_path / "counts.fits", {"BUNIT": "COUNTS", "PHOTFLAM": flam, "PHOTPLAM": plam,
                                                   "EXPTIME": 600.0}, value=3.0)
    assert value == pytest.approx(3 / 600 * per_rate, rel=1e-3)
    assert any("PHOTFLAM" in n and "EXPTIME = 600" in n for n in image.notes)


def test_PHOTFNU_and_FLUXMAG0(tmp_path):
    _, value = _one(tmp_path / "fnu.fits", {"BUNIT": "electrons/s", "PHOTFNU": 1.5e-7}, value=2.0)
    assert value == pytest.approx(2 * 1.5e-7 * 1e9, rel=1e-3)
    _, value = _one(tmp_path / "mag0.fits", {"BUNIT": "ADU", "FLUXMAG0": 1e10}, value=4.0)
    assert value == pytest.approx(4 / 1e10 * (0 * u.ABmag).to_value(u.nJy), rel=1e-3)


def test_radio_jy_per_beam_and_an_uncalibrated_image_keep_their_units_and_say_so(tmp_path):
    image, value = _one(tmp_path / "radio.fits", {"BUNIT": "JY/BEAM"}, value=0.01)
    assert image.unit == "JY/BEAM" and value == pytest.approx(0.01, rel=1e-3)
    assert any("beam" in n for n in image.notes)
    image, value = _one(tmp_path / "raw.fits", {}, value=7.0)
    assert image.unit == "" and value == pytest.approx(7.0, rel=1e-3)
    assert any("no flux calibration in the header (BUNIT/MAGZERO/PHOTFLAM)" in n for n in image.notes)


@pytest.mark.parametrize("cards, band, card", [
    ({"FILTER": "r"}, "r", "FILTER"), ({"BAND": "HSC-I"}, "HSC-I", "BAND"),
    ({"FILTNAM1": "F606W", "FILTNAM2": ""}, "F606W", "FILTNAM1"),
    ({"FILTER1": "CLEAR1L", "FILTER2": "F814W"}, "F814W", "FILTER2"),
    ({"EXTNAME": "HSC-Z"}, "HSC-Z", "EXTNAME")])
def test_band_names_come_from_each_card_and_the_note_names_it(tmp_path, cards, band, card):
    extname = cards.pop("EXTNAME", None)
    hdu = fits.ImageHDU(np.ones((N, N), np.float32) + np.random.default_rng(1).normal(0, 0.01, (N, N)),
                        _wcs_header(), name=extname)
    for key, value in cards.items():
        hdu.header[key] = value
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "b.fits")
    image = open_multiband(tmp_path / "b.fits")
    assert image.bands == (band,) and any(f"band '{band}' from {card}" in n for n in image.notes)


def test_a_band_axis_cube_gives_one_band_per_plane(tmp_path):
    cube = np.stack([np.full((N, N), k + 1.0, np.float32) for k in range(3)])
    fits.PrimaryHDU(cube, _wcs_header()).writeto(tmp_path / "cube.fits")
    image = open_multiband(tmp_path / "cube.fits")
    assert image.bands == ("band1", "band2", "band3") and np.allclose(image.data[:, 5, 5], [1, 2, 3])
    assert any("NAXIS3 = 3" in n for n in image.notes)


def test_variance_error_dq_and_weight_extensions_are_not_bands(tmp_path):
    data = np.random.default_rng(2).normal(0, 2.0, (N, N)).astype(np.float32)
    dq = np.zeros((N, N), np.int16)
    dq[:3] = 4
    hdus = [fits.PrimaryHDU(), fits.ImageHDU(data, _wcs_header(), name="DATA"),
            fits.ImageHDU(np.full((N, N), 4.0, np.float32), name="STAT"), fits.ImageHDU(dq, name="DQ")]
    fits.HDUList(hdus).writeto(tmp_path / "muse.fits")
    image = open_multiband(tmp_path / "muse.fits")
    assert image.bands == ("band1",) and image.noise.shape == (1, N, N)
    assert np.allclose(image.noise, 2.0) and image.sky_sigma == (pytest.approx(2.0),)
    assert np.isnan(image.data[0, :3]).all() and np.isfinite(image.data[0, 3:]).all()
    assert any("STAT is the per-pixel variance" in n for n in image.notes)
    hdus = [fits.PrimaryHDU(), fits.ImageHDU(data, _wcs_header(), name="SCI"),
            fits.ImageHDU(np.full((N, N), 0.5, np.float32), name="ERR"),
            fits.ImageHDU(np.where(dq > 0, 0.0, 3.0).astype(np.float32), name="WHT"),
            fits.ImageHDU(np.ones((N, N), np.int32), name="CTX")]
    fits.HDUList(hdus).writeto(tmp_path / "hst.fits")
    image = open_multiband(tmp_path / "hst.fits")
    assert len(image.bands) == 1 and np.allclose(image.noise, 0.5) and np.isnan(image.data[0, :3]).all()
    assert any("CTX is not a band" in n for n in image.notes)


def test_an_extension_holding_only_a_segmentation_map_is_not_a_band(tmp_path):
    seg = np.zeros((N, N), np.float32)
    seg[10:20, 10:20] = 1
    data = np.random.default_rng(3).normal(0, 1, (N, N)).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(data), fits.ImageHDU(seg)]).writeto(tmp_path / "s.fits")
    with pytest.warns(UserWarning, match="no celestial WCS"):
        image = open_multiband(tmp_path / "s.fits")
    assert len(image.bands) == 1 and any("segmentation map" in n for n in image.notes)


def _band_file(path, band, value, header=None):
    header = header if header is not None else _wcs_header()
    header["FILTER"], header["BUNIT"] = band, "nJy"
    data = np.full((N, N), value, np.float32) + np.random.default_rng(4).normal(0, 0.01, (N, N)).astype(np.float32)
    fits.PrimaryHDU(data, header).writeto(path)
    return path


def test_separate_files_per_band_are_combined_in_wavelength_order(tmp_path):
    paths = [_band_file(tmp_path / f"{b}.fits", b, v) for b, v in (("i", 3.0), ("g", 1.0), ("r", 2.0))]
    image = open_multiband(paths)
    assert image.bands == ("g", "r", "i") and np.allclose(np.median(image.data, axis=(1, 2)), [1, 2, 3], atol=0.01)
    assert image.unit == "nJy" and image.wcs is not None
    assert any("ordered by wavelength: g, r, i" in n for n in image.notes)


def test_separate_files_on_other_grids_are_refused_naming_the_card(tmp_path):
    g = _band_file(tmp_path / "g.fits", "g", 1.0)
    r = _band_file(tmp_path / "r.fits", "r", 1.0, _wcs_header(crpix=18.0))
    with pytest.raises(ShapeError, match=r"CRPIX1 is 16.5 in g.fits and 18.0 in r.fits; resample onto one grid first "
                                         r"\(e.g. with reproject\)"):
        open_multiband([g, r])
    fits.PrimaryHDU(np.ones((N, N + 8), np.float32), _wcs_header()).writeto(tmp_path / "wide.fits")
    with pytest.raises(ShapeError, match="NAXIS1/NAXIS2 differ"):
        open_multiband([g, tmp_path / "wide.fits"])


def test_two_chips_of_one_filter_are_refused_as_not_bands(tmp_path):
    primary = fits.PrimaryHDU()
    primary.header["FILTER1"], primary.header["FILTER2"] = "F606W", "CLEAR2L"
    chips = [fits.ImageHDU(np.random.default_rng(k).normal(0, 1, (N, N)).astype(np.float32), _wcs_header(), name="SCI",
                           ver=k + 1) for k in range(2)]
    fits.HDUList([primary, *chips]).writeto(tmp_path / "flt.fits")
    with pytest.raises(ShapeError, match=r"flt.fits holds 2 SCI extensions \(EXTVER 1, 2\) of one filter F606W: "
                                         r"detector chips, not bands"):
        open_multiband(tmp_path / "flt.fits")
