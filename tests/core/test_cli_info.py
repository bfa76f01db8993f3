"""``astroml info`` on every kind of file: the kind is sniffed from the headers (or forced with --as), every corpus
file opens with astropy's coordinates or is refused with one typed line, and never a traceback."""
from __future__ import annotations

import re
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astroml_core.data.sniff import KINDS, kind_of
from astroml_core.errors import UnsupportedFormatError
from tests.conftest import ramp_cube, sdc2_header, write_fits
from tests.corpus.files import CORPUS
from tests.corpus.report import outcome, run_info, target

# Outcome of `astroml info` per corpus file: everything opens except these, refused with a typed message.
REFUSED = {
    "gama_table": ("UnsupportedFormatError", r"holds tables \(columns SPECID, .*RA, DEC.*\) but no image and no spectra"),
    "alfalfa_hi": ("spectra reader", r"radio.*the classifier reads optical spectra"),
}
SNIFFED = {"cube": "cube", "header": "cube", "image": "image", "spectrum": "spectra"}
_CENTRE = re.compile(r"^centre: (\w+) (-?[\d.]+) ([-+][\d.]+) deg", re.MULTILINE)
_SPECTRAL = re.compile(r"^spectral: (\S+) … (\S+) (.+?);", re.MULTILINE)


def _first_image_header(path) -> fits.Header:
    """The header of the first HDU holding image data, which the cube and image readers read."""
    with fits.open(path) as hdul:
        return next(h.header.copy() for h in hdul if h.header.get("NAXIS", 0) > 0 and h.is_image and all(h.shape))


def _astropy(header: fits.Header, pixel: dict[int, float]) -> np.ndarray:
    """World values of astropy's WCS(header) at the pixel whose 0-based coordinate on axis i is pixel.get(i, 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(header)
    return wcs, np.asarray(wcs.pixel_to_world_values(*[pixel.get(i, 0.0) for i in range(wcs.pixel_n_dim)]), float)


def _check_centre(out: str, header: fits.Header) -> None:
    ny, nx = header["NAXIS2"], header["NAXIS1"]
    wcs, world = _astropy(header, {0: (nx - 1) / 2, 1: (ny - 1) / 2})
    if not wcs.has_celestial:
        assert "centre: none" in out
        return
    frame, lon, lat = _CENTRE.search(out).groups()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sky = WCS(header).celestial.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
    assert isinstance(sky, SkyCoord) and frame == sky.frame.name
    assert abs((float(lon) - world[wcs.wcs.lng] + 180) % 360 - 180) < 1e-6
    assert abs(float(lat) - world[wcs.wcs.lat]) < 1e-6


def _check_spectral(out: str, header: fits.Header) -> None:
    first, last, unit = _SPECTRAL.search(out).groups()
    wcs, _ = _astropy(header, {})
    spec = wcs.wcs.spec if wcs.wcs.spec >= 0 else 2          # a LINEAR axis is not spectral to wcslib: axis 3
    for channel, shown in ((0, first), (header[f"NAXIS{spec + 1}"] - 1, last)):
        wcs, world = _astropy(header, {spec: float(channel)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", u.UnitsWarning)
            expected = (world[spec] * u.Unit(wcs.world_axis_units[spec])).to_value(u.Unit(unit), equivalencies=u.spectral())
        assert float(shown) == pytest.approx(expected, rel=1e-6, abs=1e-9 * max(1.0, abs(expected)))


@pytest.mark.parametrize("item", CORPUS, ids=[f.key for f in CORPUS])
def test_info_on_every_corpus_file_opens_with_astropys_coordinates_or_refuses_in_one_typed_line(item, tmp_path):
    path = target(item, tmp_path)
    rc, out, err = run_info(path)
    assert "Traceback" not in err and "internal error" not in err
    if item.key in REFUSED:
        what, pattern = REFUSED[item.key]
        assert rc == 2, f"expected a refusal by the {what}: {outcome(rc, out, err)}"
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and re.search(pattern, errors[0]) and out == ""
        return
    assert rc == 0, outcome(rc, out, err)
    assert out.splitlines()[0] == f"kind: {SNIFFED[item.kind]} (from its headers)"
    if item.kind in ("cube", "header", "image"):
        header = _first_image_header(path)
        _check_centre(out, header)
        if item.kind != "image":
            _check_spectral(out, header)


def test_sniff_decides_from_the_headers(tmp_path):
    cube = write_fits(tmp_path / "cube.fits", ramp_cube(), sdc2_header())
    image = write_fits(tmp_path / "image.fits", np.ones((12, 16), np.float32), fits.Header())
    stack = write_fits(tmp_path / "stack.fits", np.ones((4, 12, 16), np.float32), fits.Header())
    nospec = sdc2_header()
    nospec["CTYPE3"], nospec["CUNIT3"] = "LINEAR", ""
    linear = write_fits(tmp_path / "linear.fits", ramp_cube(), nospec)
    spectrum = fits.Header()
    spectrum["CTYPE1"], spectrum["CUNIT1"], spectrum["CRVAL1"], spectrum["CDELT1"] = "LINEAR", "Angstrom", 4000.0, 1.0
    one_d = write_fits(tmp_path / "spec1d.fits", np.ones(500, np.float32), spectrum)
    table = tmp_path / "ours.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(Table({"FLUX": np.ones((3, 100)), "LOGLAM": np.ones((3, 100))}))]) \
        .writeto(table)
    lightcone = fits.Header()
    lightcone["ZMIN"] = 6.0
    lc = write_fits(tmp_path / "lc.fits", np.ones((20, 8, 8), np.float32), lightcone)
    assert [kind_of(p) for p in (cube, image, stack, linear, one_d, table, lc)] == \
        ["cube", "image", "image", "cube", "spectra", "spectra", "lightcone"]
    catalogue = tmp_path / "cat.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(Table({"RA": [1.0], "DEC": [2.0]}))]).writeto(catalogue)
    with pytest.raises(UnsupportedFormatError, match=r"cat.fits holds tables \(columns RA, DEC\) but no image"):
        kind_of(catalogue)


def test_info_prints_a_lightcone_and_says_what_it_assumed(tmp_path):
    h = fits.Header()
    h["BUNIT"], h["CDELT1"], h["CUNIT1"], h["ZMIN"], h["CDELT3"], h["CUNIT3"] = "mK", 4.0, "Mpc", 6.0, 4.0, "Mpc"
    path = write_fits(tmp_path / "lc.fits", np.zeros((30, 8, 8), np.float32), h)
    rc, out, err = run_info(path)
    assert rc == 0 and out.startswith("kind: lightcone (from its headers)\n")
    assert "8 × 8 × 30 cells (x, y, line of sight) of 4 comoving Mpc" in out and "redshift: 6.0000 … 6.2" in out
    assert "note: There is no REDSHIFT table: slice redshifts come from ZMIN = 6" in err


def test_as_overrides_the_sniffed_kind_and_its_reader_refuses_in_one_line(tmp_path):
    image = write_fits(tmp_path / "image.fits", np.ones((12, 16), np.float32), fits.Header())
    rc, out, err = run_info(image)
    assert rc == 0 and out.startswith("kind: image (from its headers)") and "12 × 16 pixels" in out
    rc, out, err = run_info(image, "--as", "cube")
    assert rc == 2 and out == "" and err.startswith("error: image.fits holds a 2-D image") and err.count("\n") == 1
    rc, out, err = run_info(write_fits(tmp_path / "cube.fits", ramp_cube(), sdc2_header()), "--as", "cube")
    assert rc == 0 and out.startswith("kind: cube\n") and "10 channels × 12 × 16 pixels" in out


def test_the_cli_offers_every_kind_sniff_can_answer():
    from astroml_core.cli import build_parser

    info = build_parser()._subparsers._group_actions[0].choices["info"]
    choices = next(a.choices for a in info._actions if a.dest == "as_kind")
    assert tuple(choices) == KINDS
