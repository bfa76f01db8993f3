"""Spectrum formats besides our table, read into the classifier's grid.

No real SDSS spSpec/spPlate, BOSS, LAMOST, 6dFGS or 2dFGRS file ships in a package distribution we could find
(specutils' own SDSS tests download theirs), so the files here are ones WE WROTE, layout-faithful to each
survey's data model (SDSS datamodel pages for spSpec/spPlate; LAMOST's data release description; 6dFGS and
2dFGRS as specutils' loaders read them): they check the reading, not the survey's pipeline. Real DESI and
MUSE/IRAF files are tested in test_corpus_spectra.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.data.spectra import open_spectra
from astroml_core.data.spectrum_formats import SUPPORTED_SPECTRUM_FORMATS
from astroml_core.data.spectrum_resample import air_to_vacuum, resample
from astroml_core.errors import ShapeError, UnsupportedFormatError
from astroml_core.sim.spectra import loglam_grid

GRID = loglam_grid()
C0, NPIX = 3.5800, 3800          # SDSS-like: on the grid's 1e-4 steps, 2 pixels after its start


def _spectrum(n: int = 1, npix: int = NPIX, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, npix)
    flux = (10 + 5 * x + 3 * np.exp(-0.5 * ((x - 0.4) / 0.01) ** 2))[None, :] * (1 + np.arange(n))[:, None]
    return (flux + rng.normal(0, 0.5, (n, npix))).astype(np.float32), np.full((n, npix), 4.0, np.float32)


def _sdss_header(**extra) -> fits.Header:
    h = fits.Header()
    h.update(TELESCOP="SDSS 2.5-M", COEFF0=C0, COEFF1=1e-4, CRVAL1=C0, CD1_1=1e-4, CRPIX1=1, CTYPE1="LINEAR",
             **{"DC-FLAG": 1}, BUNIT="1E-17 erg/cm^2/s/Ang", **extra)
    return h


def _check_on_grid(s, flux: np.ndarray, offset: int = 2) -> None:
    """An SDSS-grid file lands on our grid pixel for pixel (to the rounding of float32 wavelengths: 3e-4 Å,
    a few 1e-4 of a pixel mixed with its neighbour)."""
    inner = slice(offset + 5, offset + flux.shape[1] - 5)
    np.testing.assert_allclose(s.flux[:, inner], flux[:, 5:-5][:, : inner.stop - inner.start], rtol=2e-4)
    assert (s.ivar[:, :offset] == 0).all()


def test_sdss_spspec_primary_rows_read_by_specutils(tmp_path):
    """SDSS-I/II spSpec (DR7 datamodel): primary image rows flux, continuum-subtracted flux, error, mask, sky."""
    flux, _ = _spectrum()
    img = np.vstack([flux, flux - 10, np.full_like(flux, 0.5), np.zeros_like(flux), np.zeros_like(flux)])
    path = tmp_path / "spSpec-51630-0266-633.fit"
    fits.PrimaryHDU(img, _sdss_header(FIBERID=633)).writeto(path)
    s = open_spectra(path)
    assert len(s) == 1 and s.notes[0] == "read as SDSS-I/II spSpec"
    _check_on_grid(s, flux)
    np.testing.assert_allclose(s.ivar[0, 10:100], 4.0, rtol=1e-3)      # error 0.5 → ivar 4


def test_sdss_spplate_rows_are_spectra(tmp_path):
    """spPlate (SDSS datamodel): fibres as primary rows; IVAR, ANDMASK, ORMASK, WAVEDISP, PLUGMAP, SKY HDUs."""
    flux, ivar = _spectrum(8)
    plug = fits.BinTableHDU.from_columns([fits.Column("FIBERID", "J", array=np.arange(1, 9))], name="PLUGMAP")
    hdul = fits.HDUList([fits.PrimaryHDU(flux, _sdss_header()), fits.ImageHDU(ivar, name="IVAR"),
                         fits.ImageHDU(np.zeros(flux.shape, np.int32), name="ANDMASK"),
                         fits.ImageHDU(np.zeros(flux.shape, np.int32), name="ORMASK"),
                         fits.ImageHDU(np.ones(flux.shape, np.float32), name="WAVEDISP"), plug,
                         fits.ImageHDU(np.zeros(flux.shape, np.float32), name="SKY")])
    path = tmp_path / "spPlate-0266-51630.fits"
    hdul.writeto(path)
    s = open_spectra(path)
    assert len(s) == 8 and s.notes[0] == "read as SDSS spPlate"
    _check_on_grid(s, flux)


def test_boss_quasar_in_image_layout_opens(tmp_path):
    """The issue's file: one BOSS fibre in the older layout (flux in the primary HDU, COEFF0/COEFF1, ivar and
    mask in image extensions), which specutils' spSpec (5 rows) and spPlate (> 5 rows) identifiers refuse."""
    flux, ivar = _spectrum()
    hdul = fits.HDUList([fits.PrimaryHDU(flux[0], _sdss_header(FIBERID=12)), fits.ImageHDU(ivar[0]),
                         fits.ImageHDU(np.zeros(NPIX, np.int32))])
    path = tmp_path / "boss-qso.fits"
    hdul.writeto(path)
    s = open_spectra(path)
    assert len(s) == 1 and s.notes[0] == "read as SDSS image layout"
    assert "inverse variance from HDU 1 (unnamed: the spPlate datamodel's IVAR)" in s.notes
    _check_on_grid(s, flux)


def test_image_layout_with_a_named_error_extension_reads_it_as_sigma(tmp_path):
    flux, _ = _spectrum()
    hdul = fits.HDUList([fits.PrimaryHDU(flux[0], _sdss_header(FIBERID=12)),
                         fits.ImageHDU(np.full(NPIX, 0.5, np.float32), name="ERROR"),
                         fits.ImageHDU(np.zeros(NPIX, np.int32), name="MASK")])
    path = tmp_path / "boss-qso-err.fits"
    hdul.writeto(path)
    s = open_spectra(path)
    assert "HDU 1 (ERROR) read as the standard deviation" in s.notes
    np.testing.assert_allclose(s.ivar[0, 10:100], 4.0, rtol=1e-3)


def test_lamost_dr1_to_dr7_image_rows(tmp_path):
    """LAMOST DR1–DR7: primary rows flux, ivar, wavelength (vacuum), andmask, ormask."""
    flux, ivar = _spectrum()
    wave = 10 ** (C0 + 1e-4 * np.arange(NPIX))
    img = np.vstack([flux, ivar, wave, np.zeros((2, NPIX))]).astype(np.float32)
    h = fits.Header()
    h.update(TELESCOP="LAMOST", VACUUM=True, OBSID=123456, CLASS="STAR", Z=0.0001)
    path = tmp_path / "spec-55859-F5902_sp01-001.fits"
    fits.PrimaryHDU(img, h).writeto(path)
    s = open_spectra(path)
    assert list(s.ids) == ["123456"] and "wavelengths in vacuum (VACUUM = T)" in s.notes
    assert s.meta["lamost_class"][0] == "STAR"
    _check_on_grid(s, flux)


def test_lamost_dr8_table(tmp_path):
    """LAMOST DR8+: one table row with FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK vector columns."""
    flux, ivar = _spectrum()
    wave = 10 ** (C0 + 1e-4 * np.arange(NPIX))
    cols = [fits.Column(n, f"{NPIX}E", array=a[None, :]) for n, a in
            (("FLUX", flux[0]), ("IVAR", ivar[0]), ("WAVELENGTH", wave), ("ANDMASK", np.zeros(NPIX)),
             ("ORMASK", np.zeros(NPIX)))]
    h = fits.Header()
    h.update(TELESCOP="LAMOST", OBSID=7)
    path = tmp_path / "lamost-dr9.fits"
    fits.HDUList([fits.PrimaryHDU(header=h), fits.BinTableHDU.from_columns(cols, name="COADD")]).writeto(path)
    s = open_spectra(path)
    assert s.notes[:2] == ("read as LAMOST", "LAMOST DR8+ table")
    _check_on_grid(s, flux)


def _sixdf_header() -> fits.Header:
    h = fits.Header()
    h.update(OBSRA=1.0, OBSDEC=-30.0, Z=0.05, Z_HELIO=0.05, QUALITY=4, CRPIX1=1, CRVAL1=3900.0, CDELT1=1.6,
             CUNIT1="Angstroms")
    return h


def test_sixdf_split_is_air_converted_to_vacuum(tmp_path):
    """6dFGS split file (specutils' 6dFGS-split loader): rows flux, variance, sky; air wavelengths."""
    flux, _ = _spectrum(npix=3000)
    img = np.vstack([flux, np.full_like(flux, 0.25), np.zeros_like(flux)])
    path = tmp_path / "g0000000-300000.fits"
    fits.PrimaryHDU(img, _sixdf_header()).writeto(path)
    s = open_spectra(path)
    assert s.notes[0] == "read as 6dFGS-split"
    assert "6dFGS-split wavelengths are in air: converted to vacuum (Morton 2000)" in s.notes
    air = 3900.0 + 1.6 * np.arange(3000)
    vac = air_to_vacuum(air)
    first = np.argmax(s.ivar[0] > 0)
    assert 10 ** (GRID[first] - 0.5e-4) < vac[0] + 1.0 and s.wavelength[first] > vac[0] - 1.0
    # variance 0.25 per 1.6 Å pixel: an output pixel (~1 Å) inside one input pixel keeps it, one straddling two
    # averages two independent values (Σ w²σ² / (Σ w)² ≤ σ²)
    iv = s.ivar[0, first + 5: first + 100]
    assert (iv >= 4.0 * (1 - 1e-5)).all() and (iv <= 8.0 * (1 + 1e-5)).all() and np.isclose(iv, 4.0).sum() > 20


def test_twodfgrs_one_spectrum_per_hdu(tmp_path):
    """2dFGRS (specutils' loader): spectrum, variance and sky rows in each HDU; IMAGE = 'SPECTRUM'."""
    flux, _ = _spectrum(npix=1000)
    h = fits.Header()
    h.update(IMAGE="SPECTRUM", CRPIX1=1, CRVAL1=3600.0, CDELT1=4.3)
    img = np.vstack([flux, np.full_like(flux, 1.0), np.zeros_like(flux)])
    path = tmp_path / "TGS123Z001.fits"
    fits.HDUList([fits.PrimaryHDU(img, h), fits.ImageHDU(img * 2, h)]).writeto(path)
    s = open_spectra(path)
    assert len(s) == 2 and s.notes[0] == "read as 2dFGRS" and "2dFGRS wavelengths are in air" in s.notes[1]


def test_wcs1d_wave_in_metres_is_vacuum_and_stat_is_variance(tmp_path):
    flux, _ = _spectrum(npix=2000)
    h = fits.Header()
    h.update(CTYPE1="WAVE", CUNIT1="m", CRVAL1=4.0e-7, CDELT1=2.0e-10, CRPIX1=1, BUNIT="erg/s/cm2/Angstrom")
    path = tmp_path / "one.fits"
    fits.HDUList([fits.PrimaryHDU(flux[0], h), fits.ImageHDU(np.full(2000, 0.25, np.float32), h, name="STAT")]) \
        .writeto(path)
    s = open_spectra(path)
    assert not any("air" in n for n in s.notes)
    assert "HDU 1 (STAT) read as the variance" in s.notes
    good = s.ivar[0] > 0
    assert abs(s.wavelength[good][0] - 4000.0) < 1.0 and abs(s.wavelength[good][-1] - (4000 + 2 * 1999)) < 1.0


def test_tabular_scalar_columns(tmp_path):
    flux, ivar = _spectrum(npix=3000)
    wave = np.linspace(3700, 9500, 3000)
    cols = [fits.Column("WAVELENGTH", "D", unit="Angstrom", array=wave), fits.Column("FLUX", "E", array=flux[0]),
            fits.Column("IVAR", "E", array=ivar[0])]
    path = tmp_path / "t.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    s = open_spectra(path)
    assert s.notes[0] == "read as tabular-fits" and "IVAR read as the inverse variance" in s.notes
    assert (s.ivar[0] > 0).mean() > 0.99


def test_catalogue_table_is_unsupported_and_lists_formats(tmp_path):
    cols = [fits.Column("RA", "D", array=[1.0]), fits.Column("Z", "E", array=[0.1])]
    path = tmp_path / "cat.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    with pytest.raises(UnsupportedFormatError, match="not a spectrum file we can read") as info:
        open_spectra(path)
    for fmt in SUPPORTED_SPECTRUM_FORMATS:
        assert fmt in str(info.value)


def test_image_is_unsupported(tmp_path):
    path = tmp_path / "img.fits"
    fits.PrimaryHDU(np.zeros((20, 20), np.float32)).writeto(path)
    with pytest.raises(UnsupportedFormatError, match=r"an image of 20 × 20.*We read: \(1\) AstroML"):
        open_spectra(path)


def test_little_overlap_names_the_ranges(tmp_path):
    cols = [fits.Column("WAVELENGTH", "D", unit="um", array=np.linspace(1.0, 2.5, 500)),
            fits.Column("FLUX", "E", array=np.ones(500))]
    path = tmp_path / "ir.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    with pytest.raises(ShapeError, match="cover 10,000–25,000 Å; the classifier reads optical spectra of 3,800–9,198 Å"):
        open_spectra(path)


def test_damaged_known_layout_is_a_typed_error(tmp_path):
    """A file that specutils identifies as spPlate but whose extensions are missing: ShapeError, not IndexError."""
    flux, _ = _spectrum(8)
    path = tmp_path / "broken-spPlate.fits"
    fits.PrimaryHDU(flux, _sdss_header()).writeto(path)
    with pytest.raises(ShapeError, match="looks like a SDSS spPlate file but cannot be read"):
        open_spectra(path)


def test_resampling_matches_specutils_flux_conserving_resampler():
    """Our sparse resampler against specutils' FluxConservingResampler on an irregular grid (interior pixels)."""
    import astropy.units as u
    from astropy.nddata import InverseVariance
    from specutils import Spectrum
    from specutils.manipulation import FluxConservingResampler

    rng = np.random.default_rng(3)
    wave = np.sort(rng.uniform(4000, 8000, 2500))
    flux = rng.normal(10, 1, 2500)
    ivar = rng.uniform(0.5, 2, 2500)
    ours_f, ours_iv = resample(wave, flux[None], ivar[None], GRID)
    spec = Spectrum(flux=flux * u.Jy, spectral_axis=wave * u.AA, uncertainty=InverseVariance(ivar / u.Jy ** 2))
    theirs = FluxConservingResampler(extrapolation_treatment="zero_fill")(spec, 10 ** GRID * u.AA)
    inner = (10 ** GRID > 4050) & (10 ** GRID < 7950)
    np.testing.assert_allclose(ours_f[0, inner], theirs.flux.value[inner], rtol=1e-6)
    np.testing.assert_allclose(ours_iv[0, inner], theirs.uncertainty.array[inner], rtol=1e-6)


def test_notes_survive_writing_and_sets_join(tmp_path):
    """Several uploads are joined and written as our table: each file's notes go with it (FITS cards, ASCII)."""
    from astroml_core.data.spectra import write_spectra
    from astroml_core.data.spectrum_resample import concatenate

    flux, ivar = _spectrum(npix=3000)
    paths = []
    for i in range(2):
        cols = [fits.Column("WAVELENGTH", "D", unit="Angstrom", array=np.linspace(3700, 9500, 3000)),
                fits.Column("FLUX", "E", array=flux[0] * (i + 1)), fits.Column("IVAR", "E", array=ivar[0])]
        paths.append(tmp_path / f"t{i}.fits")
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(paths[-1])
    joined = concatenate([open_spectra(p) for p in paths], [p.name for p in paths])
    assert len(joined) == 2 and joined.notes[0] == "t0.fits: read as tabular-fits"
    back = open_spectra(write_spectra(tmp_path / "set.fits", joined))
    assert len(back.notes) == len(joined.notes)
    assert any("3,700.0-9,500.0 Angstrom" in n for n in back.notes)
    np.testing.assert_array_equal(back.flux, joined.flux)


# --- one layout-faithful file per format we read without a real example (used by the browser test) ------------
def _simulated_flux(npix: int, seed: int) -> np.ndarray:
    """A simulated galaxy's flux (our simulator) interpolated onto ``npix`` pixels, so the classifier sees a
    spectrum and not a ramp."""
    from astroml_core.sim.spectra import simulate_spectra

    sim = simulate_spectra(seed, 1)
    f = np.asarray(sim.flux[0], np.float64)
    return np.interp(np.linspace(0, f.size - 1, npix), np.arange(f.size), f).astype(np.float32)


def write_spspec(path):
    f = _simulated_flux(NPIX, 1)
    img = np.vstack([f, f, np.full_like(f, 0.5), np.zeros_like(f), np.zeros_like(f)])
    fits.PrimaryHDU(img, _sdss_header(FIBERID=633)).writeto(path)
    return 1, "read as SDSS-I/II spSpec"


def write_spplate(path):
    flux = np.vstack([_simulated_flux(NPIX, s) for s in range(8)])
    plug = fits.BinTableHDU.from_columns([fits.Column("FIBERID", "J", array=np.arange(1, 9))], name="PLUGMAP")
    zeros = np.zeros(flux.shape, np.int32)
    fits.HDUList([fits.PrimaryHDU(flux, _sdss_header()), fits.ImageHDU(np.full(flux.shape, 4.0, np.float32), name="IVAR"),
                  fits.ImageHDU(zeros, name="ANDMASK"), fits.ImageHDU(zeros, name="ORMASK"),
                  fits.ImageHDU(np.ones(flux.shape, np.float32), name="WAVEDISP"), plug,
                  fits.ImageHDU(np.zeros(flux.shape, np.float32), name="SKY")]).writeto(path)
    return 8, "read as SDSS spPlate"


def write_boss_image(path):
    f = _simulated_flux(NPIX, 2)
    fits.HDUList([fits.PrimaryHDU(f, _sdss_header(FIBERID=12)), fits.ImageHDU(np.full(NPIX, 4.0, np.float32)),
                  fits.ImageHDU(np.zeros(NPIX, np.int32))]).writeto(path)
    return 1, "read as SDSS image layout"


def write_lamost(path):
    f = _simulated_flux(NPIX, 3)
    wave = 10 ** (C0 + 1e-4 * np.arange(NPIX))
    h = fits.Header()
    h.update(TELESCOP="LAMOST", VACUUM=True, OBSID=123456)
    fits.PrimaryHDU(np.vstack([f, np.full(NPIX, 4.0), wave, np.zeros((2, NPIX))]).astype(np.float32), h).writeto(path)
    return 1, "read as LAMOST"


def write_sixdf(path):
    f = _simulated_flux(3000, 4)
    fits.PrimaryHDU(np.vstack([f, np.full_like(f, 0.25), np.zeros_like(f)]), _sixdf_header()).writeto(path)
    return 1, "read as 6dFGS-split"


def write_twodf(path):
    h = fits.Header()
    h.update(IMAGE="SPECTRUM", CRPIX1=1, CRVAL1=3600.0, CDELT1=4.3)
    f = _simulated_flux(1000, 5)
    fits.PrimaryHDU(np.vstack([f, np.full_like(f, 1.0), np.zeros_like(f)]), h).writeto(path)
    return 1, "read as 2dFGRS"


def write_tabular(path):
    f = _simulated_flux(3000, 6)
    cols = [fits.Column("WAVELENGTH", "D", unit="Angstrom", array=np.linspace(3700, 9500, 3000)),
            fits.Column("FLUX", "E", array=f), fits.Column("IVAR", "E", array=np.full(3000, 4.0))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    return 1, "read as tabular-fits"


LAYOUT_WRITERS = {"spSpec-51630-0266-633.fit": write_spspec, "spPlate-0266-51630.fits": write_spplate,
                  "boss-qso-image-layout.fits": write_boss_image, "lamost-dr7.fits": write_lamost,
                  "sixdf-split.fits": write_sixdf, "twodf.fits": write_twodf, "table.fits": write_tabular}


@pytest.mark.parametrize("name", sorted(LAYOUT_WRITERS))
def test_each_written_layout_opens_and_classifies(tmp_path, name):
    from astroml_core.tasks.spectra.classify import classify

    n, note = LAYOUT_WRITERS[name](tmp_path / name)
    s = open_spectra(tmp_path / name)
    assert len(s) == n and s.notes[0] == note
    assert np.isfinite(classify(s).probs).all()


def test_sixdf_tabular_and_combined(tmp_path):
    """6dFGS tabular (a WAVE/FLUX table, no uncertainty: noise from the scatter) and combined files (spectra from
    HDU 5 on, each with flux, variance and sky rows), through specutils' loaders."""
    flux = _simulated_flux(3000, 7)
    head = fits.Header()
    head.update({k: v for k, v in _sixdf_header().items() if k in ("OBSRA", "OBSDEC", "Z", "Z_HELIO", "QUALITY")})
    wave = 3900.0 + 1.6 * np.arange(3000)
    table = fits.BinTableHDU.from_columns([fits.Column("WAVE", "D", unit="Angstrom", array=wave),
                                           fits.Column("FLUX", "E", unit="count/s", array=flux)])
    path = tmp_path / "tab.fits"
    fits.HDUList([fits.PrimaryHDU(header=head), table]).writeto(path)
    s = open_spectra(path)
    assert s.notes[0] == "read as 6dFGS-tabular" and any(n.startswith("no uncertainty in the file") for n in s.notes)
    img = np.vstack([flux, np.full_like(flux, 0.25), np.zeros_like(flux)])
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(np.zeros((2, 2), np.float32)) for _ in range(4)] + \
        [fits.ImageHDU(img * (i + 1), _sixdf_header()) for i in range(3)]
    path = tmp_path / "combined.fits"
    fits.HDUList(hdus).writeto(path)
    s = open_spectra(path)
    assert len(s) == 3 and s.notes[0] == "read as 6dFGS-combined"
