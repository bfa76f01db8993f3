"""Every real spectrum file of the corpus (tests/corpus/files.py) opens on the classifier's grid or is refused
with a pinned typed message. Expected wavelengths come from specutils and astropy, never from our readers."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.data.spectra import open_spectra
from astroml_core.data.spectrum_formats import SUPPORTED_SPECTRUM_FORMATS, read_foreign
from astroml_core.errors import ShapeError, UnsupportedFormatError
from astroml_core.sim.spectra import loglam_grid
from tests.corpus.files import by_kind, corpus_path

# key -> (spectra kept, notes that must be there) or (error type, message pattern)
EXPECTED = {
    "desi_coadd": (2, ["read as DESI coadd", "DESI B, R, Z arms joined"]),
    "desi_coadd_mws": (1, ["read as DESI coadd", "DESI B, R, Z arms joined"]),
    "desi_spectra": (1, ["read as DESI spectra", "DESI B, R, Z arms joined"]),
    "muse_spectrum": (1, ["read as wcs1d-fits", "CTYPE1 'LINEAR' in Angstrom read as air wavelength",
                          "HDU 1 (unnamed) read as the variance"]),
    "muse_spectrum_novar": (1, ["read as wcs1d-fits", "CTYPE1 'LINEAR' in Angstrom read as air wavelength",
                                "no uncertainty in the file"]),
    "vega": (1, ["read as wcs1d-fits", "no uncertainty in the file"]),
    "sdss_ngc3073": (1, ["read as SDSS-III/IV spec (COADD table)"]),
    "sdss_ngc3522": (1, ["read as SDSS-III/IV spec (COADD table)"]),
    "legac_spectrum": (1, ["read as tabular-fits", "ERR read as the standard deviation", "pixels with QUAL ≠ 0 dropped",
                           "WAVE UCD 'em.wl;obs.atmos' (air): converted to vacuum"]),
    "desi_bgs_80613": (1, ["read as DESI coadd", "DESI B, R, Z arms joined"]),
    "desi_special_27247": (1, ["read as DESI coadd", "DESI B, R, Z arms joined"]),
    "boss_qso_j2202": (1, ["read as SDSS image layout", "SDSS/BOSS image layout: λ = 10^(COEFF0 + COEFF1·i), vacuum",
                           "inverse variance from HDU 1"]),
    "mage_qso_um184": (1, ["read as wcs1d-fits", "DC-FLAG = 1: the linear axis holds log10 λ",
                           "no uncertainty in the file"]),
    "esi_qso_ph957": (1, ["read as wcs1d-fits", "DC-FLAG = 1: the linear axis holds log10 λ",
                          "no uncertainty in the file"]),
    "boss_star_3586": (1, ["read as SDSS-III/IV spec (COADD table)"]),
    "alfalfa_hi": (ShapeError, r"alfalfa_sp\.fits \(tabular-fits\): its spectra cover 22–22\.4 cm \(radio, "
                               r"1,340–1,365 MHz\); the classifier reads optical spectra of 3,800–9,198 Å"),
    # 10% of the grid: opens (issue 31) and the classifier answers UNKNOWN "covers only …" for it
    "sauron_ngc4550": (1, ["read as wcs1d-fits", "the file covers 10% of the classifier's 3,800–9,198 Å"]),
}


def test_every_corpus_spectrum_has_an_expectation():
    assert {f.key for f in by_kind("spectrum")} == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_corpus_spectrum_opens_or_is_refused(key):
    expected = EXPECTED[key]
    if isinstance(expected[0], type):
        with pytest.raises(expected[0], match=expected[1]):
            open_spectra(corpus_path(key))
        return
    s = open_spectra(corpus_path(key))
    n, notes = expected
    assert len(s) == n
    assert s.flux.shape == (n, loglam_grid().size) and np.array_equal(s.loglam, loglam_grid())
    for note in notes:
        assert any(x.startswith(note) for x in s.notes), (note, s.notes)
    assert (s.ivar > 0).any(axis=1).all()
    assert np.isfinite(s.flux).all() and np.isfinite(s.ivar).all()


def test_gama_catalogue_is_refused_with_the_formats_we_read():
    with pytest.raises(UnsupportedFormatError, match="GAMA_HzVs28.fits is not a spectrum file we can read") as info:
        open_spectra(corpus_path("gama_table"))
    assert all(fmt in str(info.value) for fmt in SUPPORTED_SPECTRUM_FORMATS)


def _pieces(key):
    with fits.open(corpus_path(key), memmap=False) as hdul:
        return read_foreign(hdul, corpus_path(key).name)


@pytest.mark.parametrize("key", ["desi_coadd", "desi_spectra"])
def test_desi_wavelengths_are_specutils(key):
    from specutils import SpectrumList

    arms = SpectrumList.read(corpus_path(key), format="DESI " + key.split("_")[1])
    raw = _pieces(key)
    assert len(raw.pieces) == len(arms) == 3
    for piece, arm in zip(raw.pieces, arms):
        np.testing.assert_allclose(piece.wavelength, arm.spectral_axis.to_value("Angstrom"), rtol=1e-6)
        np.testing.assert_array_equal(piece.flux, arm.flux.value)


@pytest.mark.parametrize("key", ["muse_spectrum", "vega"])
def test_wcs1d_wavelengths_are_astropy_then_air_to_vacuum(key):
    import astropy.units as u
    from astropy.wcs import WCS
    from specutils.utils.wcs_utils import air_to_vac

    header = fits.getheader(corpus_path(key))
    air = WCS(header, naxis=1).pixel_to_world_values(np.arange(header["NAXIS1"], dtype=float))
    air = np.asarray(air).ravel()
    ours = _pieces(key).pieces[0].wavelength
    optical = air >= 2500
    np.testing.assert_allclose(ours[optical], air_to_vac(air[optical] * u.AA).to_value(u.AA), rtol=1e-6)


def test_muse_spectrum_resampled_as_specutils_resamples_it():
    """The file's flux and variance (read by astropy) through specutils' FluxConservingResampler onto our grid
    equal our SpectrumSet, interior pixels, to 1e-6."""
    import astropy.units as u
    from astropy.nddata import InverseVariance, VarianceUncertainty
    from specutils import Spectrum
    from specutils.manipulation import FluxConservingResampler

    s = open_spectra(corpus_path("muse_spectrum"))
    with fits.open(corpus_path("muse_spectrum")) as hdul:
        flux, var = hdul[0].data.astype(float), hdul[1].data.astype(float)
    wave = _pieces("muse_spectrum").pieces[0].wavelength
    spec = Spectrum(flux=flux * u.Jy, spectral_axis=wave * u.AA, uncertainty=VarianceUncertainty(var * u.Jy ** 2))
    grid = 10 ** loglam_grid()
    theirs = FluxConservingResampler(extrapolation_treatment="zero_fill")(spec, grid * u.AA)
    inner = (grid > wave[0] + 5) & (grid < wave[-1] - 5)
    np.testing.assert_allclose(s.flux[0, inner], theirs.flux.value[inner], rtol=1e-5)     # ours stored float32
    np.testing.assert_allclose(s.ivar[0, inner], theirs.uncertainty.represent_as(InverseVariance).array[inner],
                               rtol=1e-5)
    half = 0.5 * (wave[1] - wave[0])         # the file's outer pixels reach half a pixel beyond their centres
    assert (s.ivar[0, (grid < wave[0] - half) | (grid > wave[-1] + half)] == 0).all()


def test_sdss_spec_files_land_on_the_grid_by_their_loglam_column():
    """Real SDSS DR18 spec files: each COADD pixel on the grid pixel its loglam names (astropy reads the table)."""
    for key in ("sdss_ngc3073", "sdss_ngc3522", "boss_star_3586"):
        s = open_spectra(corpus_path(key))
        with fits.open(corpus_path(key)) as hdul:
            coadd = hdul["COADD"].data
            loglam, flux = np.asarray(coadd["loglam"], float), np.asarray(coadd["flux"], np.float32)
        idx = np.rint((loglam - loglam_grid()[0]) / 1e-4).astype(int)
        ok = (idx >= 0) & (idx < loglam_grid().size)
        np.testing.assert_allclose(10 ** s.loglam[idx[ok]], 10 ** loglam[ok], rtol=1e-6)
        np.testing.assert_array_equal(s.flux[0, idx[ok]], flux[ok])


def test_legac_air_wavelengths_are_astropy_then_air_to_vacuum():
    import astropy.units as u
    from astropy.table import Table
    from specutils.utils.wcs_utils import air_to_vac

    table = Table.read(corpus_path("legac_spectrum"), hdu=1)
    air = table["WAVE"].quantity[0].to(u.AA)
    ours = _pieces("legac_spectrum").pieces[0].wavelength
    np.testing.assert_allclose(ours, air_to_vac(air).to_value(u.AA), rtol=1e-6)


@pytest.mark.parametrize("key", ["desi_coadd", "muse_spectrum", "sdss_ngc3522", "legac_spectrum"])
def test_classifier_runs_on_opened_real_spectra(key):
    from astroml_core.tasks.spectra.classify import classify

    s = open_spectra(corpus_path(key))
    result = classify(s)
    assert result.probs.shape == (len(s), len(result.classes))
    assert np.isfinite(result.probs).all() and np.allclose(result.probs.sum(axis=1), 1, atol=1e-4)
    assert np.isfinite(result.anomaly).all()


def test_boss_single_fibre_file_lands_on_the_grid_by_its_own_log10_wavelength_image():
    """linetools' BOSS quasar (spPlate image layout, 1-D): specutils' spPlate identifier takes it and its loader
    fails, so it was refused at the door; now each pixel lands on the grid pixel the file's own log10 λ image
    (HDU 2, read by astropy) names, with HDU 1 as the inverse variance."""
    s = open_spectra(corpus_path("boss_qso_j2202"))
    with fits.open(corpus_path("boss_qso_j2202")) as hdul:
        flux, ivar, loglam = (np.asarray(hdul[i].data, float) for i in range(3))
    idx = np.rint((loglam - loglam_grid()[0]) / 1e-4).astype(int)
    ok = (idx > 0) & (idx < loglam_grid().size - 1)      # the grid's two end pixels are resampled across its edge
    np.testing.assert_allclose(10 ** s.loglam[idx[ok]], 10 ** loglam[ok], rtol=1e-6)
    np.testing.assert_allclose(s.flux[0, idx[ok]], flux[ok], rtol=1e-5)
    np.testing.assert_allclose(s.ivar[0, idx[ok]], ivar[ok], rtol=1e-5)
