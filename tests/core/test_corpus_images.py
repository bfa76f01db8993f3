"""Every real image of the corpus (tests/corpus/files.py) opens with the right bands, world coordinates equal to
astropy's ``WCS(header)`` of its science HDU (distortions included) to 1e-6 deg at the centre and corners, the
right unit and flux scale and notes saying what was assumed; the deblender finds its sources on a real field.
Expected fluxes come from the header cards through astropy's units, never from our reader."""
from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astroml_core.data import open_multiband
from tests.corpus.files import by_kind, corpus_path

# key: (science HDU, bands, unit, phrases its notes must hold)
EXPECTED = {
    "hst_m32": (0, ("F814W",), "nJy", ["band 'F814W' from FILTNAM1", "taken as counts", "EXPTIME = 1280", "PHOTFLAM"]),
    "hst_ngc4342": (0, ("F814W",), "nJy", ["taken as counts", "EXPTIME = 200"]),
    "hst_ngc5831": (0, ("F702W",), "nJy", ["band 'F702W' from FILTNAM1", "EXPTIME = 1000"]),
    "m32_ground": (0, ("band1",), "ADU", ["photometry in ADU", "no celestial WCS"]),
    "statmorph_slice": (0, ("band1",), "", ["HDU 1 holds only whole numbers", "HDU 2 holds only whole numbers",
                                            "no flux calibration in the header (BUNIT/MAGZERO/PHOTFLAM)"]),
    "first_cutout": (0, ("band1",), "JY/BEAM", ["a radio image per beam"]),
    "magpis_cutout": (0, ("band1",), "JY/BEAM", ["a radio image per beam"]),
    "ukidss_cutout": (1, ("K",), "nJy", ["band 'K' from FILTER", "EXP_TIME = 10", "MAGZPT = 24.053"]),
    "cfht_megacam": (0, ("g.MP9401",), "", ["band 'g.MP9401' from FILTER", "no flux calibration in the header"]),
    "sdss_thumbnail": (0, ("r",), "adu", ["band 'r' from FILTER", "photometry in adu"]),
    "ned_image": (0, ("band1",), "", ["no flux calibration in the header"]),
    "hst_hdfs": (1, ("F606W",), "nJy", ["read as counts/s", "PHOTFLAM = 1.89972e-18"]),
    "hst_a478": (1, ("F814W",), "nJy", ["BUNIT = 'COUNTS/S'", "WHT is a weight map", "CTX is not a band"]),
    "muse_white": (1, ("band1",), "", ["STAT is the per-pixel variance", "DQ is a data-quality map",
                                       "× the pixels' own scatter"]),
}


def _open(key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_multiband(corpus_path(key))


def test_the_table_covers_every_corpus_image():
    assert sorted(EXPECTED) == sorted(f.key for f in by_kind("image"))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_corpus_image_opens_with_its_bands_unit_and_notes(key):
    _, bands, unit, phrases = EXPECTED[key]
    image = _open(key)
    assert image.bands == bands and image.unit == unit
    for phrase in phrases:
        assert any(phrase in note for note in image.notes), (phrase, image.notes)
    assert np.isfinite(image.data).mean() > 0.9


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_corpus_world_coordinates_equal_astropy_to_1e_6_deg(key):
    hdu = EXPECTED[key][0]
    image = _open(key)
    header = fits.getheader(corpus_path(key), hdu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = WCS(header)                      # astropy's own reading, fix=True, SIP/ZPN/distortions kept
    if not full.has_celestial:
        assert image.wcs is None
        return
    ny, nx = image.shape
    x = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    y = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    pixel = [x, y] + [np.zeros(5)] * (full.naxis - 2)
    world = full.all_pix2world(*pixel, 0)
    lon, lat = world[full.wcs.lng], world[full.wcs.lat]
    ours = image.wcs.all_pix2world(x, y, 0)
    assert np.all(np.abs((ours[0] - lon + 180) % 360 - 180) < 1e-6) and np.all(np.abs(ours[1] - lat) < 1e-6)
    if key == "sdss_thumbnail":
        assert image.wcs.sip is not None


def _per_rate_njy(header):
    return (header["PHOTFLAM"] * u.erg / u.s / u.cm**2 / u.AA).to_value(u.nJy, u.spectral_density(header["PHOTPLAM"] * u.AA))


def test_hst_fluxes_follow_photflam_and_exptime():
    raw = fits.getdata(corpus_path("hst_a478"), 1)                    # COUNTS/S
    sci = fits.getheader(corpus_path("hst_a478"), 1)
    image = _open("hst_a478")
    good = np.isfinite(image.data[0])
    assert np.allclose(image.data[0][good], raw[good] * _per_rate_njy(sci), rtol=1e-4, atol=1e-6)
    raw = fits.getdata(corpus_path("hst_m32"))                        # counts in 1280 s
    header = fits.getheader(corpus_path("hst_m32"))
    image = _open("hst_m32")
    assert np.allclose(image.data[0], raw / header["EXPTIME"] * _per_rate_njy(header), rtol=1e-4, atol=1e-4)


def test_muse_variance_becomes_the_noise_and_dq_blanks_pixels():
    with fits.open(corpus_path("muse_white")) as hdul:
        stat, dq = hdul["STAT"].data, hdul["DQ"].data
    image = _open("muse_white")
    assert np.isnan(image.data[0][dq != 0]).all()
    good = np.isfinite(stat) & (stat > 0)
    assert np.allclose(image.noise[0][good], np.sqrt(stat[good]), rtol=1e-5)
    # STAT's σ is ~20× the white-light image's pixel scatter: the sky σ is left to be measured from the pixels
    assert image.sky_sigma == (None,)


@pytest.mark.parametrize("method", ["sep", "photutils"])
def test_the_deblender_finds_the_sources_of_the_hubble_deep_field_south(method):
    """A sanity check against sep run by hand on the same pixels (its own background and noise), untuned: the
    same order of sources."""
    import sep

    from astroml_core.tasks.deblend.run import deblend

    image = _open("hst_hdfs")
    result = deblend(image, method)
    n = len(result.catalogue)
    data = np.ascontiguousarray(np.nan_to_num(image.data[0]), dtype=np.float64)
    bkg = sep.Background(data)
    by_hand = len(sep.extract(data - bkg.back(), 1.5, err=bkg.globalrms, minarea=5))
    assert n > 20 and 0.5 < n / by_hand < 2.0, (n, by_hand)
    assert np.isfinite(result.catalogue["ra"]).all() and result.catalogue.meta["image_notes"] == list(image.notes)
    flux = np.asarray(result.catalogue["flux_F606W"], float)
    assert np.median(flux) > 0 and str(image.unit) == "nJy"


def test_a_frame_still_carrying_its_sky_is_sky_subtracted_before_deblending():
    from astroml_core.tasks.deblend.run import deblend

    image = _open("cfht_megacam")                     # raw MegaCam counts, sky ≈ 1197
    result = deblend(image, "sep")
    assert 0 < len(result.catalogue) and (result.segmap > 0).mean() < 0.2
    assert any("the sky was not subtracted" in n for n in result.catalogue.meta["image_notes"])
