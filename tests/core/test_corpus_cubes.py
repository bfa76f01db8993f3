"""Every real cube of the corpus (and cubes written at the shape of the real headers) opens with world
coordinates equal to astropy's ``WCS(header)``: 1e-6 deg on the sky, 1e-6 relative on the spectral axis,
at the centre, the corners, the first and the last channel; the unit is astropy's parse of BUNIT (or a
stated repair) and the beam is radio_beam's reading of the header."""
from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from astroml_core.data import open_cube
from astroml_core.errors import HeaderRepairWarning
from tests.corpus.files import by_kind, corpus_path


def _open_quietly(path):
    """open_cube with astropy's and our repair warnings silenced (the repairs are asserted, not warned)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        warnings.simplefilter("ignore", HeaderRepairWarning)
        return open_cube(path)


def image_header(path) -> fits.Header:
    with fits.open(path) as hdul:
        return next(h.header for h in hdul if h.header.get("NAXIS", 0) >= 3)


def check_against_astropy(cube, header: fits.Header, *, spectral_unit_fix: dict | None = None) -> None:
    h = header.copy()
    for k, v in (spectral_unit_fix or {}).items():
        h[k] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(h)
    nchan, ny, nx = cube.shape
    spec = wcs.wcs.spec if wcs.wcs.spec >= 0 else 2
    for i in (0, nchan // 2, nchan - 1):
        for y, x in [((ny - 1) / 2, (nx - 1) / 2), (0, 0), (0, nx - 1), (ny - 1, 0), (ny - 1, nx - 1)]:
            pix = [x, y] + [0] * (wcs.naxis - 2)
            pix[spec] = i
            world = wcs.pixel_to_world_values(*pix)
            ours = cube.world(i, y, x).sky
            theirs = SkyCoord(world[wcs.wcs.lng], world[wcs.wcs.lat], unit="deg")
            lon, lat = ours.spherical.lon.deg, ours.spherical.lat.deg
            assert SkyCoord(lon, lat, unit="deg").separation(theirs).deg < 1e-6
            unit = u.Unit(wcs.wcs.cunit[spec]) if str(wcs.wcs.cunit[spec]) else u.one
            assert cube.spectral_world[i].to_value(unit) == pytest.approx(world[spec], rel=1e-6)


def expected_unit(header: fits.Header):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return u.Unit(header["BUNIT"], parse_strict="silent")


def expected_beam(header: fits.Header):
    from radio_beam import Beam
    from radio_beam.beam import NoBeamException
    try:
        return Beam.from_fits_header(header)
    except NoBeamException:
        return None


CUBES = [f.key for f in by_kind("cube")]


@pytest.mark.parametrize("key", CUBES)
def test_corpus_cube_opens_equal_to_astropy(key):
    path = corpus_path(key)
    cube = _open_quietly(path)
    header = image_header(path)
    fix = {}
    if str(header.get("CTYPE3", "")).strip() == "LINEAR":
        assert any("CTYPE3 'LINEAR' in Angstrom read as air wavelength (AWAV)" in r for r in cube.repairs)
        assert cube.spectral_world.unit.physical_type == "length"
    check_against_astropy(cube, header, spectral_unit_fix=fix)
    unit = expected_unit(header)
    if isinstance(unit, u.UnrecognizedUnit):
        assert any("BUNIT" in r for r in cube.repairs)
    else:
        assert cube.unit == unit
    beam = expected_beam(header)
    if beam is None:
        assert cube.beam is None
    else:
        assert cube.beam.major.to_value(u.arcsec) == pytest.approx(beam.major.to_value(u.arcsec))
        assert cube.beam.minor.to_value(u.arcsec) == pytest.approx(beam.minor.to_value(u.arcsec))
        assert cube.beam.pa.to_value(u.deg) == pytest.approx(beam.pa.to_value(u.deg))
    assert np.isfinite(cube.frequencies.value).all()


def cube_from_header(tmp_path, key: str, keep=(5, 4, 6)) -> tuple:
    """The real header with NAXISn cut to a few pixels and data of that shape (CRPIX kept: the WCS is the same)."""
    header = fits.Header.fromtextfile(corpus_path(key))
    for card in ("CHECKSUM", "DATASUM"):
        header.remove(card, ignore_missing=True)
    naxis = header["NAXIS"]
    shape = [min(header[f"NAXIS{k}"], keep[k - 1] if k <= 3 else 1) for k in range(1, naxis + 1)]
    data = np.random.default_rng(1).normal(size=shape[::-1]).astype(np.float32)
    header["BITPIX"] = -32
    path = tmp_path / f"{key}.fits"
    fits.PrimaryHDU(data, header).writeto(path, output_verify="silentfix")
    return path, header


@pytest.mark.parametrize("key", [f.key for f in by_kind("header")])
def test_cube_written_at_a_real_headers_shape_opens_equal_to_astropy(tmp_path, key):
    path, header = cube_from_header(tmp_path, key)
    cube = _open_quietly(path)
    written = fits.getheader(path)
    check_against_astropy(cube, written)
    unit = expected_unit(written)
    if isinstance(unit, u.UnrecognizedUnit):
        assert any("BUNIT" in r for r in cube.repairs), cube.repairs
    else:
        assert cube.unit == unit
    beam = expected_beam(written)
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(beam.major.to_value(u.arcsec))
    assert cube.beam.minor.to_value(u.arcsec) == pytest.approx(beam.minor.to_value(u.arcsec))


def test_casa_header_upper_case_bunit_is_a_stated_repair(tmp_path):
    path, _ = cube_from_header(tmp_path, "casa_jybeam_header")
    cube = _open_quietly(path)
    assert cube.unit == u.Jy / u.beam
    assert "BUNIT = 'JY/BEAM' read as Jy/beam" in cube.repairs
    assert cube.velocity_convention == "optical"     # VOPT in km/s


def test_w51_velo_lsr_with_velref_257_is_radio(tmp_path):
    path, _ = cube_from_header(tmp_path, "w51_header")
    cube = _open_quietly(path)
    assert cube.velocity_convention == "radio"
    assert any("VELO-LSR" in r and "VELREF = 257" in r for r in cube.repairs), cube.repairs


@pytest.mark.parametrize("key", CUBES)
def test_astroml_info_opens_every_corpus_cube(key, capsys):
    from astroml_core.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["info", str(corpus_path(key))]) == 0
    out, err = capsys.readouterr()
    assert "channels" in out
    if "LINEAR" in str(image_header(corpus_path(key)).get("CTYPE3")):
        assert "note: CTYPE3 'LINEAR'" in err
