"""Headers as CASA, AIPS, GIPSY, Miriad and SoFiA write them, made from scratch: each opens with world
coordinates equal to astropy's own ``WCS(header)`` (1e-6 deg on the sky, 1e-6 relative on the spectral
axis), the beam from wherever it was written, and every repair said in ``cube.repairs``."""
from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from astroml_core.data import open_cube
from astroml_core.errors import (ArchivalHeaderWarning, HeaderRepairWarning, InvalidWCSError, MissingWCSError,
                                 ShapeError, SpectralAxisError)
from tests.conftest import ramp_cube, write_fits

NCHAN, NY, NX = 6, 9, 11


def astropy_wcs(header: fits.Header) -> WCS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return WCS(header)


def sky_header(ctype: str = "RA---NCP", cunit: str = "DEGREE", lon: str = "RA", lat: str = "DEC") -> fits.Header:
    h = fits.Header()
    proj = ctype[-3:]
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = f"{lon:-<4}-{proj}", 143.042125, -3.33333e-3, 5.0
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = f"{lat:-<4}-{proj}", 21.500833, 3.33333e-3, 4.0
    if cunit:
        h["CUNIT1"] = h["CUNIT2"] = cunit
    return h


def gipsy_header(cunit3: str | None = None) -> fits.Header:
    """WSRT/WHISP as GIPSY writes it: DEGREE, NCP, VELO-HEL in m/s (no CUNIT3 or 'M/S'), BMMAJ/BMMIN arcsec,
    rest frequency in FREQ0."""
    h = sky_header("RA---NCP", "DEGREE")
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "VELO-HEL", 556000.0, -4122.0, 3.0
    if cunit3:
        h["CUNIT3"] = cunit3
    h["EPOCH"] = 2000.0
    h["BMMAJ"], h["BMMIN"], h["BMPA"] = 14.1, 12.3, 5.0
    h["BUNIT"] = "JY/BEAM"
    h["FREQ0"] = 1.420405752e9
    return h


def write(tmp_path, header, data=None, name="cube.fits"):
    data = ramp_cube(NCHAN, NY, NX) if data is None else data
    return write_fits(tmp_path / name, data, header)


def assert_matches_astropy(cube, header: fits.Header) -> None:
    """Centre, corners, first and last channel: our sky and spectral values equal astropy's WCS(header)."""
    wcs = astropy_wcs(header)
    nchan, ny, nx = cube.shape
    spec_axis = wcs.wcs.spec
    for i in (0, nchan - 1):
        for y, x in [((ny - 1) / 2, (nx - 1) / 2), (0, 0), (0, nx - 1), (ny - 1, 0), (ny - 1, nx - 1)]:
            pix = [x, y] + [0] * (wcs.naxis - 2)
            pix[spec_axis if spec_axis >= 0 else 2] = i
            world = wcs.pixel_to_world_values(*pix)
            got = cube.world(i, y, x).sky
            frame = got.frame.name
            ours = (got.spherical.lon.deg, got.spherical.lat.deg)
            theirs = (world[wcs.wcs.lng], world[wcs.wcs.lat])
            assert frame in ("icrs", "fk5", "fk4", "galactic")
            sep = SkyCoord(*ours, unit="deg").separation(SkyCoord(*theirs, unit="deg")).deg
            assert sep < 1e-6
            s_axis = spec_axis if spec_axis >= 0 else 2
            unit = u.Unit(wcs.wcs.cunit[s_axis] or "m/s")
            expect = world[s_axis] * unit
            assert cube.spectral_world[i].to_value(unit) == pytest.approx(expect.value, rel=1e-6, abs=1e-12)


# --- GIPSY / WSRT (issue 28's NGC 2903) ---------------------------------------------------------------
def test_gipsy_header_opens_with_astropy_coordinates_beam_from_bmmaj_and_repairs_listed(tmp_path):
    h = gipsy_header()
    with pytest.warns(HeaderRepairWarning):
        cube = open_cube(write(tmp_path, h))
    assert_matches_astropy(cube, h)
    assert cube.beam.source == "BMMAJ"
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(14.1)
    assert cube.beam.minor.to_value(u.arcsec) == pytest.approx(12.3)
    assert cube.beam.pa.to_value(u.deg) == pytest.approx(5.0)
    text = "\n".join(cube.repairs)
    assert "CUNIT1 and CUNIT2 = 'DEGREE' read as deg" in text
    assert "CTYPE1 'RA---NCP' read as 'RA---SIN'" in text
    assert "CTYPE3 'VELO-HEL'" in text and "optical velocity" in text
    assert "CUNIT3 missing" in text
    assert "beam from BMMAJ/BMMIN (arcsec" in text
    assert "FREQ0" in text
    assert set(cube.repairs) <= set(cube.warnings)
    assert cube.velocity_convention == "optical"
    assert cube.velocities[2].to_value(u.km / u.s) == pytest.approx(556.0)
    assert cube.rest_frequency.to_value(u.Hz) == pytest.approx(1.420405752e9)
    assert cube.unit == u.Jy / u.beam


def test_gipsy_header_with_upper_case_m_per_s_reads_like_astropy_with_m_per_s(tmp_path):
    """astropy's default WCS(header) reads 'M/S' as metre per siemens and fails; we read it as m/s, which is
    what astropy gives for the same header with CUNIT3 = 'm/s'."""
    h = gipsy_header("M/S")
    with pytest.warns(HeaderRepairWarning):
        cube = open_cube(write(tmp_path, h))
    reference = h.copy()
    reference["CUNIT3"] = "m/s"
    assert_matches_astropy(cube, reference)
    assert any("CUNIT3 = 'M/S' read as m/s" in r for r in cube.repairs)


# --- spectral types ------------------------------------------------------------------------------------
SPECTRAL = [
    # ctype, cunit, crval, cdelt, extra cards, convention, repair expected
    ("FELO-HEL", "", 1.5e6, -2.0e4, {"VELREF": 2}, "optical", "FELO-HEL"),
    ("VELO-LSR", "m/s", 2.0e5, 5.0e3, {"VELREF": 257}, "radio", "VELO-LSR"),
    ("VELO-LSR", "", 2.0e5, 5.0e3, {}, "optical", "VELO-LSR"),
    ("VELOCITY", "km/s", 200.0, 5.0, {}, "optical", "VELOCITY"),
    ("VELOCITY", "km/s", 200.0, 5.0, {"VELREF": 257}, "radio", "VELOCITY"),
    ("ZOPT", "", 0.01, 1e-4, {}, "optical", None),
    ("VOPT", "km/s", 3000.0, -10.0, {}, "optical", None),
    ("VRAD", "KM/S", 3000.0, -10.0, {}, "radio", "KM/S"),
    ("VRAD", "M/S", 3.0e6, -1.0e4, {}, "radio", "M/S"),
    ("FREQ", "HZ", 1.41e9, 1.0e5, {}, "optical", "HZ"),
    ("FREQ", "MHZ", 1410.0, 0.1, {}, "optical", "MHZ"),
    ("FREQ", "", 1.41e9, 1.0e5, {}, "optical", "CUNIT3 missing"),
    ("VELO", "m/s", 2.0e6, 1.0e4, {}, "relativistic", None),
]


@pytest.mark.parametrize("ctype,cunit,crval,cdelt,extra,convention,repair", SPECTRAL,
                         ids=[f"{s[0]}-{s[1] or 'nounit'}-{s[4].get('VELREF', 0)}" for s in SPECTRAL])
def test_spectral_axis_equals_astropy_and_converts_with_its_convention(tmp_path, ctype, cunit, crval, cdelt, extra,
                                                                          convention, repair):
    h = sky_header("RA---SIN", "deg")
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = ctype, crval, cdelt, 2.0
    if cunit:
        h["CUNIT3"] = cunit
    h["RESTFRQ"] = 1.420405752e9
    h["BMAJ"] = h["BMIN"] = 4e-3
    h["BUNIT"] = "Jy/beam"
    for k, v in extra.items():
        h[k] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(write(tmp_path, h))
    reference = h.copy()
    if cunit in ("M/S", "KM/S"):              # astropy's default reads 'S' as siemens and fails
        reference["CUNIT3"] = cunit.lower()
    if ctype == "VELOCITY":                   # not a FITS type: astropy gives the linear value in CUNIT3
        ref = astropy_wcs(reference)
        values = ref.sub([3]).pixel_to_world_values(np.arange(NCHAN, dtype=float))
        np.testing.assert_allclose(cube.spectral_world.to_value(u.Unit(cunit)), values, rtol=1e-6)
    else:
        assert_matches_astropy(cube, reference)
    assert cube.velocity_convention == convention
    if repair is not None:
        assert any(repair in r for r in cube.repairs), cube.repairs
    else:
        assert not any(r.startswith("CTYPE3") or r.startswith("CUNIT3") for r in cube.repairs), cube.repairs
    # the frequency follows the stated convention
    rest = 1.420405752e9
    native = cube.spectral_world
    if native.unit.physical_type == "speed":
        v = native.to_value(u.km / u.s)
        c = 299792.458
        expect = {"optical": rest / (1 + v / c), "radio": rest * (1 - v / c),
                  "relativistic": rest * np.sqrt((1 - v / c) / (1 + v / c))}[convention]
        np.testing.assert_allclose(cube.frequencies.to_value(u.Hz), expect, rtol=1e-9)
    elif ctype == "ZOPT":
        np.testing.assert_allclose(cube.frequencies.to_value(u.Hz), rest / (1 + native.value), rtol=1e-9)


@pytest.mark.parametrize("convention", ["radio", "optical", "relativistic"])
def test_velocities_in_any_convention_from_the_same_frequencies(tmp_path, convention):
    h = sky_header("RA---SIN", "deg")
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "FREQ", 1.40e9, 1e5, 1.0, "Hz"
    h["RESTFRQ"] = 1.420405752e9
    cube = open_cube(write(tmp_path, h))
    f = cube.frequencies.to_value(u.Hz)
    nu0, c = 1.420405752e9, 299792.458
    expect = {"radio": c * (1 - f / nu0), "optical": c * (nu0 / f - 1),
              "relativistic": c * (nu0**2 - f**2) / (nu0**2 + f**2)}[convention]
    np.testing.assert_allclose(cube.velocities_in(convention).to_value(u.km / u.s), expect, rtol=1e-9)
    assert cube.velocities_in().unit == u.km / u.s
    with pytest.raises(ValueError, match="not one of"):
        cube.velocities_in("doppler")


# --- projections ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("proj", ["NCP", "SIN", "TAN", "CAR", "GLS", "SFL", "ARC"])
@pytest.mark.parametrize("frame", ["equatorial", "galactic"])
def test_projection_equals_astropy(tmp_path, proj, frame):
    lon, lat = ("RA", "DEC") if frame == "equatorial" else ("GLON", "GLAT")
    h = sky_header(f"RA---{proj}", "DEG", lon, lat)
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "FREQ", 1.40e9, 1e5, 1.0, "Hz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(write(tmp_path, h))
    assert_matches_astropy(cube, h)
    if proj in ("NCP", "GLS"):
        assert any(f"-{proj}'" in r for r in cube.repairs), cube.repairs


# --- Stokes on axis 3 or 4 ------------------------------------------------------------------------------
def test_stokes_on_axis_3_with_frequency_on_axis_4(tmp_path):
    h = sky_header("RA---SIN", "deg")
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "STOKES", 1.0, 1.0, 1.0
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"], h["CUNIT4"] = "FREQ", 1.40e9, 1e5, 1.0, "Hz"
    data = np.stack([ramp_cube(NCHAN, NY, NX, seed=s) for s in range(2)], axis=1)   # (chan, stokes, y, x)
    cube = open_cube(write(tmp_path, h, data))
    assert cube.shape == (NCHAN, NY, NX)
    np.testing.assert_array_equal(cube.channel(3), data[3, 0])
    wcs = astropy_wcs(h)
    for i in (0, NCHAN - 1):
        ra, dec, _, f = wcs.pixel_to_world_values(2, 3, 0, i)
        sky = cube.world(i, 3, 2).sky
        assert SkyCoord(ra, dec, unit="deg").separation(sky).deg < 1e-6
        assert cube.frequencies[i].to_value(u.Hz) == pytest.approx(f, rel=1e-6)


def test_stokes_on_axis_4_with_velocity_on_axis_3(tmp_path):
    h = gipsy_header()
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", 1.0, 1.0, 1.0
    data = np.stack([ramp_cube(NCHAN, NY, NX, seed=s) for s in range(4)])          # (stokes, chan, y, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(write(tmp_path, h, data))
    np.testing.assert_array_equal(cube.channel(2), data[0, 2])
    assert_matches_astropy(cube, h)


# --- MUSE 'LINEAR' -------------------------------------------------------------------------------------
def test_linear_axis_in_angstrom_reads_as_air_wavelength(tmp_path):
    h = sky_header("RA---TAN", "deg")
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "LINEAR", 7300.0, 1.25, 1.0, "Angstrom"
    with pytest.warns(HeaderRepairWarning, match="CTYPE3 'LINEAR'"):
        cube = open_cube(write(tmp_path, h))
    values = astropy_wcs(h).sub([3]).pixel_to_world_values(np.arange(NCHAN, dtype=float))
    np.testing.assert_allclose(cube.spectral_world.to_value(u.AA), values, rtol=1e-9)
    assert any("air wavelength (AWAV)" in r for r in cube.repairs)


# --- refusals name the card -----------------------------------------------------------------------------
def test_a_unit_that_does_not_fit_its_axis_is_refused_naming_the_card(tmp_path):
    h = gipsy_header("DEGREE")
    with pytest.raises(InvalidWCSError, match="CUNIT3 = 'DEGREE'"):
        open_cube(write(tmp_path, h))


# --- missing keys ---------------------------------------------------------------------------------------
def test_missing_bunit_and_beam_are_said(tmp_path):
    h = gipsy_header()
    for key in ("BUNIT", "BMMAJ", "BMMIN", "BMPA"):
        del h[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(write(tmp_path, h))
    assert cube.beam is None
    assert any(r.startswith("BUNIT missing") for r in cube.repairs)
    h["BUNIT"] = "JY/BEAM"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(write(tmp_path, h, name="b.fits"))
    assert any("no beam in the header" in r for r in cube.repairs)
    with pytest.raises(MissingWCSError, match="beam"):
        cube.integrated_flux_map()


# --- CASA per-channel beams -----------------------------------------------------------------------------
def casa_cube(tmp_path, majors_arcsec, *, data=None, pa=None):
    """A CASA-exported cube: FREQ axis, Jy/beam, CASAMBM = T and a BEAMS table (arcsec, deg)."""
    n = len(majors_arcsec)
    h = sky_header("RA---SIN", "deg")
    h["CDELT1"], h["CDELT2"] = -1.0 / 3600, 1.0 / 3600                                   # 1″ pixels
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "FREQ", 1.40e9, 2.0e4, 1.0, "Hz"
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", 1.0, 1.0, 1.0
    h["RESTFRQ"], h["SPECSYS"], h["BUNIT"], h["CASAMBM"] = 1.420405752e9, "LSRK", "Jy/beam", True
    data = (ramp_cube(n, NY, NX) if data is None else data)[None]
    majors = np.asarray(majors_arcsec, float)
    beams = fits.BinTableHDU.from_columns([
        fits.Column("BMAJ", "E", "arcsec", array=majors), fits.Column("BMIN", "E", "arcsec", array=majors / 2),
        fits.Column("BPA", "E", "deg", array=np.linspace(0, 90, n) if pa is None else np.full(n, pa)),
        fits.Column("CHAN", "J", array=np.arange(n)), fits.Column("POL", "J", array=np.zeros(n, int))], name="BEAMS")
    beams.header["NCHAN"], beams.header["NPOL"] = n, 1
    path = tmp_path / "casa.fits"
    fits.HDUList([fits.PrimaryHDU(data, h), beams]).writeto(path, overwrite=True)
    return path, data[0]


def test_casa_beam_table_gives_each_channel_its_beam(tmp_path):
    majors = [3.0, 4.0, 6.0, 9.0, 12.0, 20.0]
    path, _ = casa_cube(tmp_path, majors)
    with pytest.warns(ArchivalHeaderWarning, match="BEAMS table"):
        cube = open_cube(path)
    assert not cube.repairs and any("BEAMS table" in w for w in cube.warnings)
    assert [b.major.to_value(u.arcsec) for b in cube.beams] == pytest.approx(majors)
    assert cube.beams[3].minor.to_value(u.arcsec) == pytest.approx(4.5)
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(np.median(majors))
    areas = cube.beam_areas()
    assert areas[5] / areas[0] == pytest.approx((20 / 3) ** 2, rel=1e-5)


def test_casa_moment0_in_jy_km_s_uses_each_channels_beam(tmp_path):
    majors = [3.0, 4.0, 6.0, 9.0, 12.0, 20.0]
    data = np.abs(ramp_cube(len(majors), NY, NX)) + 0.1
    path, data = casa_cube(tmp_path, majors, data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(path)
    got = cube.integrated_flux_map(convention="radio")
    assert got.unit == u.Jy * u.km / u.s
    # by hand: Jy/beam → Jy/pixel with channel c's beam (1″ pixels), times the channel's radio width
    c, nu0 = 299792.458, 1.420405752e9
    f = 1.40e9 + 2.0e4 * np.arange(len(majors))
    v = c * (1 - f / nu0)
    widths = np.abs(np.gradient(v))
    area = np.pi * np.asarray(majors) * np.asarray(majors) / 2 / (4 * np.log(2))
    expect = (data / area[:, None, None] * widths[:, None, None]).sum(axis=0)
    np.testing.assert_allclose(got.value, expect, rtol=1e-5)
    # one beam for all channels would give another map
    single = (data / np.median(area) * widths[:, None, None]).sum(axis=0)
    assert np.abs(got.value / single - 1).max() > 0.3
    # Jy/beam·km/s: the per-beam moment in velocity
    m0 = cube.moment0(velocity=True, convention="radio")
    assert m0.unit == u.Jy / u.beam * u.km / u.s
    np.testing.assert_allclose(m0.value, (data * widths[:, None, None]).sum(axis=0), rtol=1e-5)


def test_integrated_flux_map_refuses_a_unit_not_per_beam(tmp_path):
    path, _ = casa_cube(tmp_path, [5.0] * NCHAN, pa=30.0)
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["BUNIT"] = "K"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(path)
    assert cube.beams is None                         # all channels share one beam: no per-channel list
    with pytest.raises(ShapeError, match="not a flux density per beam"):
        cube.integrated_flux_map()


def test_hi_line_flux_integral_divides_each_channel_by_its_own_beam(tmp_path):
    from astroml_core.tasks.hi import geometry_of, measure_sources

    majors = [3.0, 4.0, 6.0, 9.0, 12.0, 20.0]
    data = np.zeros((len(majors), NY, NX), np.float32)
    data[1:5, 3:6, 4:8] = 2.0                                         # a box source over channels 1-4
    path, data = casa_cube(tmp_path, majors, data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(path)
    geom = geometry_of(cube, noise=0.1)
    np.testing.assert_allclose(geom.channel_beam_areas_px, cube.beam_areas())
    labels = (data > 0).astype(int)
    table = measure_sources(data, labels, geom, dilate_px=0, dilate_chan=0)
    area = np.pi * np.asarray(majors) ** 2 / 2 / (4 * np.log(2))      # minor = major / 2, 1″ pixels
    expect = sum(2.0 * 12 * 2.0e4 / area[c] for c in range(1, 5))      # Jy Hz
    assert table["line_flux_integral"][0].to_value(u.Jy * u.Hz) == pytest.approx(expect, rel=1e-5)


# --- storage: integers with BSCALE/BZERO/BLANK, gzip, tile compression --------------------------------
@pytest.mark.parametrize("storage", ["scaled-int16", "gzip", "tile-compressed"])
def test_gipsy_cube_in_every_storage_opens_equal_to_astropy(tmp_path, storage):
    h = gipsy_header()
    data = ramp_cube(NCHAN, NY, NX)
    path = tmp_path / "g.fits"
    if storage == "scaled-int16":
        raw = np.round((data + 5) / 0.01).astype(np.int16)
        raw[0, 0, 0] = -32768
        h["BSCALE"], h["BZERO"], h["BLANK"] = 0.01, -5.0, -32768
        hdu = fits.PrimaryHDU(raw, h)
        hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = 0.01, -5.0, -32768
        hdu.writeto(path, output_verify="silentfix")
        with fits.open(path, do_not_scale_image_data=True, mode="update") as hdul:   # keep raw integers
            hdul[0].data = raw
    elif storage == "gzip":
        path = tmp_path / "g.fits.gz"
        fits.PrimaryHDU(data, h).writeto(path)
    else:
        fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, h)]).writeto(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        cube = open_cube(path)
    assert_matches_astropy(cube, h)
    assert cube.beam.source == "BMMAJ"
    plane = cube.channel(0)
    if storage == "scaled-int16":
        assert np.isnan(plane[0, 0])
        np.testing.assert_allclose(plane[1:], data[0, 1:], atol=0.006)
    else:                                     # tile compression of floats quantises: compare with astropy's read
        with fits.open(path) as hdul:
            expect = next(h.data for h in hdul if h.data is not None)[0]
        np.testing.assert_allclose(plane, expect, rtol=1e-6)


@pytest.mark.parametrize("card,value,error,match", [
    ("CUNIT3", "FOO", InvalidWCSError, "CUNIT3 = 'FOO'"),
    ("CTYPE1", "RA---QQQ", InvalidWCSError, "CTYPE1 = 'RA---QQQ'"),
    ("CTYPE3", "LINEAR", SpectralAxisError, r"CTYPE3 = 'LINEAR' \(CUNIT3 = ''\) is not a spectral type"),
])
def test_unreadable_cards_are_refused_naming_the_card(tmp_path, card, value, error, match):
    h = gipsy_header()
    h[card] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        with pytest.raises(error, match=match):
            open_cube(write(tmp_path, h))


def test_a_beams_table_missing_a_channel_is_refused_naming_it(tmp_path):
    from astroml_core.errors import InvalidFITSError

    path, _ = casa_cube(tmp_path, [3.0, 4.0, 6.0, 9.0, 12.0, 20.0])
    with fits.open(path, mode="update") as hdul:
        hdul["BEAMS"].data["CHAN"][4] = 3                        # two rows for channel 3, none for 4
    with pytest.raises(InvalidFITSError, match="BEAMS table has no beam for channel 4"):
        open_cube(path)


def test_beams_table_picks_the_rows_of_the_stokes_plane_shown(tmp_path):
    """Two polarisations in the table (POL 0, 1): the beams of POL 0 (Stokes I, the plane shown) are used."""
    majors = np.array([3.0, 4.0, 6.0, 9.0, 12.0, 20.0])
    path, _ = casa_cube(tmp_path, majors)
    n = majors.size
    table = fits.BinTableHDU.from_columns([
        fits.Column("BMAJ", "E", "arcsec", array=np.r_[majors * 10, majors]),
        fits.Column("BMIN", "E", "arcsec", array=np.r_[majors * 5, majors / 2]),
        fits.Column("BPA", "E", "deg", array=np.zeros(2 * n)),
        fits.Column("CHAN", "J", array=np.r_[np.arange(n), np.arange(n)]),
        fits.Column("POL", "J", array=np.r_[np.ones(n, int), np.zeros(n, int)])], name="BEAMS")
    with fits.open(path) as hdul:
        fits.HDUList([hdul[0].copy(), table]).writeto(tmp_path / "two_pol.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchivalHeaderWarning)
        cube = open_cube(tmp_path / "two_pol.fits")
    assert [b.major.to_value(u.arcsec) for b in cube.beams] == pytest.approx(majors)
