"""Hostile files (issue 27): every loader and every ``astroml`` subcommand that reads a file turns a broken one
into a typed, specific AstroMLError (one ``error:`` line and status 2 from the CLI, never a traceback), and a
file that is odd but valid (scaled integers, gzip, a REDSHIFT column spelt REDSHIFT, five spectra) gives the
right numbers. Decompression bombs and NaN bombs are refused in well under two seconds.

Every file is built in the test from seeded generators: a kind is a builder plus what each reader must do
with it. Generic kinds (zero bytes, text, random bytes, gzip garbage, broken headers, impossible paths)
go to every target; the others to the targets of their family (cube, image, spectra, lightcone, galaxies).
"""
from __future__ import annotations

import contextlib
import gzip
import re
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroml_core.cli import main
from astroml_core.data import open_cube, open_multiband
from astroml_core.data.fitsfile import display_name
from astroml_core.data.spectra import open_sdss_spec, open_spectra
from astroml_core.errors import (AstroMLError, DecompressionBombError, InvalidFITSError, InvalidTableError,
                                 InvalidWCSError, MissingWCSError, NonFiniteError, PathNotAllowedError, ShapeError,
                                 SpectralAxisError, TruncatedFITSError)
from astroml_core.sim.galaxies import PROPERTIES
from astroml_core.sim.spectra import loglam_grid
from astroml_core.tasks.inference import open_lightcone
from astroml_core.tasks.inference.galaxy import read_galaxies
from tests.conftest import ramp_cube, sdc2_header

SCALED_RAW = np.array([-1, 0, 1, 2], np.int16)            # BSCALE 2, BZERO 10, BLANK -1 …
SCALED_PHYSICAL = np.array([np.nan, 10.0, 12.0, 14.0])     # … means this
GAL_COLUMNS = [f"log_{name}" for name, _ in PROPERTIES]


# --- base files -------------------------------------------------------------------------------------------
def _cube_hdu(rng: np.random.Generator, nchan: int = 10, ny: int = 12, nx: int = 16) -> fits.PrimaryHDU:
    return fits.PrimaryHDU(ramp_cube(nchan, ny, nx, seed=int(rng.integers(1 << 30))), sdc2_header(nx, ny, nchan))


def _sky_header(n: int) -> fits.Header:
    h = fits.Header()
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"], h["CUNIT1"] = "RA---TAN", 150.0, -0.2 / 3600, n / 2, "deg"
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"], h["CUNIT2"] = "DEC--TAN", 2.0, 0.2 / 3600, n / 2, "deg"
    h["BUNIT"] = "nJy"
    return h


def _field(rng: np.random.Generator, n: int = 32) -> np.ndarray:
    """A seeded image of three Gaussian galaxies on unit noise."""
    y, x = np.mgrid[:n, :n]
    img = rng.normal(size=(n, n))
    for cy, cx in rng.uniform(6, n - 6, size=(3, 2)):
        img += 40 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 6.0)
    return img.astype(np.float32)


def _image_hdul(rng: np.random.Generator, n: int = 32) -> fits.HDUList:
    bands = []
    for band in "griz":
        h = _sky_header(n)
        h["FILTER"] = band
        bands.append(fits.ImageHDU(_field(rng, n), h, name=band.upper()))
    return fits.HDUList([fits.PrimaryHDU()] + bands)


def _spectra_hdul(rng: np.random.Generator, n: int = 5) -> fits.HDUList:
    from astroml_core.data.spectra import SpectrumSet, _table_hdu

    grid = loglam_grid()
    flux = (5 + rng.normal(size=(n, grid.size))).astype(np.float32)
    ivar = np.ones_like(flux)
    ids = np.array([f"s{i}" for i in range(n)])
    table = _table_hdu(SpectrumSet(grid, flux, ivar, None, ids, {"z": rng.uniform(0, 1, n)}))
    return fits.HDUList([fits.PrimaryHDU(), table])


def _sdss_hdul(rng: np.random.Generator, *, specobj: bool = True, z: bool = True) -> fits.HDUList:
    grid = loglam_grid()
    loglam = grid[0] + (np.arange(1000) - 50) * 1e-4                  # starts 50 pixels blue of the grid
    coadd = fits.BinTableHDU.from_columns([
        fits.Column("flux", "E", array=(3 + rng.normal(size=1000)).astype(np.float32)),
        fits.Column("loglam", "E", array=loglam.astype(np.float32)),
        fits.Column("ivar", "E", array=np.full(1000, 4.0, np.float32)),
        fits.Column("and_mask", "J", array=np.zeros(1000, np.int32))], name="COADD")
    hdus = [fits.PrimaryHDU(), coadd]
    if specobj:
        cols = [fits.Column("CLASS", "6A", array=["GALAXY"]), fits.Column("SUBCLASS", "8A", array=["STARBURST"])]
        if z:
            cols.append(fits.Column("Z", "E", array=[0.125]))
        hdus.append(fits.BinTableHDU.from_columns(cols, name="SPECOBJ"))
    return fits.HDUList(hdus)


def _lightcone_hdul(rng: np.random.Generator, *, n_los: int = 20, n: int = 8, z_column: str = "z",
                    data: np.ndarray | None = None) -> fits.HDUList:
    cube = rng.normal(size=(n_los, n, n)).astype(np.float32) if data is None else data
    h = fits.Header()
    h["BUNIT"] = "mK"
    for axis, ctype in enumerate(("X", "Y", "LOSDIST"), 1):
        h[f"CTYPE{axis}"], h[f"CUNIT{axis}"], h[f"CDELT{axis}"], h[f"CRPIX{axis}"], h[f"CRVAL{axis}"] = \
            ctype, "Mpc", 4.0, 1.0, 2.0
    h["ZMIN"] = 6.0
    table = fits.table_to_hdu(Table({z_column: np.linspace(6.0, 7.0, n_los), "xhi": np.linspace(0.9, 0.5, n_los)}))
    table.name = "REDSHIFT"
    return fits.HDUList([fits.PrimaryHDU(cube, h), table])


def _galaxy_table(rng: np.random.Generator, n: int = 3) -> Table:
    return Table({c: np.round(rng.uniform(8, 12, n), 3) for c in GAL_COLUMNS})


# --- helpers that break files -----------------------------------------------------------------------------
def _write(path: Path, hdul: fits.HDUList) -> Path:
    hdul.writeto(path, overwrite=True)
    return path


def _bytes_of(hdul: fits.HDUList, tmp: Path) -> bytes:
    return _write(tmp / "_whole.fits", hdul).read_bytes()


def _cut(path: Path, data: bytes, keep: int) -> Path:
    path.write_bytes(data[:keep])
    return path


def _cards(*pairs) -> bytes:
    """A raw header from (key, value) pairs, END and padding included (no validation: it may be broken)."""
    text = "".join(f"{k:<8}= {v:>20}".ljust(80) for k, v in pairs) + "END".ljust(80)
    return text.ljust(-(-len(text) // 2880) * 2880).encode("ascii")


def _scaled_primary(raw: np.ndarray, header: fits.Header) -> fits.PrimaryHDU:
    hdu = fits.PrimaryHDU(raw, header, do_not_scale_image_data=True)
    hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = 2.0, 10.0, -1
    return hdu


def _sparse_blank(path: Path, shape: tuple[int, ...], header: fits.Header) -> Path:
    """A FITS file of int16 zeros with BLANK = 0 (all NaN) written sparse: gigabytes that take no disk."""
    h = fits.Header([("SIMPLE", True), ("BITPIX", 16), ("NAXIS", len(shape))]
                    + [(f"NAXIS{k}", n) for k, n in enumerate(shape[::-1], 1)])
    h.extend(header, update=True)
    h["BLANK"] = 0
    head = h.tostring().encode("ascii")
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + -(-2 * int(np.prod(shape)) // 2880) * 2880)
    return path


def gzip_bomb(path: Path, gigabytes: float = 1.0) -> Path:
    """~1 MB of gzip (one member for the header, then identical members of 8 MB of NaN each) that a cube header
    says expands to ``gigabytes`` of float32 NaN: every plane 1024 × 1024, as many planes as it takes."""
    planes = int(gigabytes * 2**30 // (4 * 1024 * 1024))
    h = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 3), ("NAXIS1", 1024), ("NAXIS2", 1024),
                     ("NAXIS3", planes)])
    h.extend(sdc2_header(1024, 1024, planes), update=True)
    member = gzip.compress(np.full(2**21, np.nan, ">f4").tobytes(), compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(h.tostring().encode("ascii")))
        for _ in range(planes // 2):                 # 8 MB = two planes per member
            fh.write(member)
        fh.write(gzip.compress(bytes(-(planes * 4 * 1024 * 1024) % 2880)))
    return path


# --- the kinds of file ------------------------------------------------------------------------------------
Builder = Callable[[Path, np.random.Generator], Path]


@dataclass(frozen=True)
class Accept:
    """The file must be accepted; ``check(result)`` asserts the loader's numbers, ``cli`` lists the subcommands
    run on it (cheap ones) with a check of their output."""

    check: Callable | None = None
    cli: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    name: str
    family: str                        # "any", "cube", "image", "spectra", "lightcone" or "galaxies"
    build: Builder
    expect: dict                       # target family (or "*") → (error class, regex) or Accept
    names_file: bool = True            # the message names the file


K: list[Kind] = []


def kind(name: str, family: str, expect: dict, names_file: bool = True):
    def register(build: Builder) -> Builder:
        K.append(Kind(name, family, build, expect, names_file))
        return build
    return register


NOT_FITS = (InvalidFITSError, "not a FITS file")
NOT_TABLE = (InvalidTableError, "cannot be read as a table")


def _generic(fits_error) -> dict:
    """The same refusal from every FITS reader; the galaxy-table reader says it as an InvalidTableError."""
    return {"*": fits_error, "galaxies": (InvalidTableError, f"{fits_error[1]}|{NOT_TABLE[1]}")}


@kind("zero_bytes", "any", {"*": (InvalidFITSError, r"empty \(0 bytes\)"), "galaxies": (InvalidTableError, "empty")})
def _(tmp, rng):
    (p := tmp / "empty.fits").write_bytes(b"")
    return p


@kind("text", "any", _generic(NOT_FITS))
def _(tmp, rng):
    (p := tmp / "notes.fits").write_text("These are my observing notes, not a FITS file.\n" * 20)
    return p


for _seed, _size in ((1, 100), (2, 4000), (3, 30_000)):
    @kind(f"random_bytes_{_size}", "any", _generic(NOT_FITS))
    def _(tmp, rng, _size=_size, _seed=_seed):
        (p := tmp / f"random{_size}.fits").write_bytes(b"X" + np.random.default_rng(_seed).bytes(_size))
        return p


@kind("html", "any", _generic(NOT_FITS))
def _(tmp, rng):
    (p := tmp / "page.fits").write_text("<!DOCTYPE html><html><body>404 Not Found</body></html>\n")
    return p


@kind("simple_then_garbage", "any", _generic((InvalidFITSError, "could not be read as FITS|cannot be read|corrupt")))
def _(tmp, rng):
    (p := tmp / "garbage.fits").write_bytes(b"SIMPLE  =                    T" + rng.bytes(6000))
    return p


@kind("gzip_garbage", "any", _generic((InvalidFITSError, "gzip.*corrupt")))
def _(tmp, rng):
    (p := tmp / "garbage.fits.gz").write_bytes(b"\x1f\x8b\x08\x00" + rng.bytes(3000))
    return p


@kind("gzip_of_text", "any", _generic((InvalidFITSError, "gzip-compressed but .* not a FITS file")))
def _(tmp, rng):
    (p := tmp / "text.fits.gz").write_bytes(gzip.compress(b"hello, I am not FITS\n" * 50))
    return p


@kind("bzip2", "any", _generic((InvalidFITSError, "bzip2-compressed: decompress it first")))
def _(tmp, rng):
    import bz2

    (p := tmp / "cube.fits.bz2").write_bytes(bz2.compress(_bytes_of(fits.HDUList([_cube_hdu(rng)]), tmp)))
    return p


@kind("gzip_truncated", "any", _generic((TruncatedFITSError, "truncated|ends before|cut short")))
def _(tmp, rng):
    data = gzip.compress(_bytes_of(fits.HDUList([_cube_hdu(rng, 20, 32, 32)]), tmp))
    return _cut(tmp / "cut.fits.gz", data, len(data) // 2)


@kind("header_cut_mid_card", "any", _generic((InvalidFITSError, "corrupt|truncated")))
def _(tmp, rng):
    return _cut(tmp / "headcut.fits", _bytes_of(fits.HDUList([_cube_hdu(rng)]), tmp), 1000)


@kind("header_without_end", "any", _generic((InvalidFITSError, "corrupt|truncated")))
def _(tmp, rng):
    cards = "".join(f"{k:<8}= {v:>20}".ljust(80) for k, v in
                    [("SIMPLE", "T"), ("BITPIX", -32), ("NAXIS", 0)] + [(f"COMM{i}", i) for i in range(40)])
    (p := tmp / "noend.fits").write_bytes(cards.encode("ascii").ljust(5760, b" "))
    return p


@kind("header_with_nul_bytes", "any", _generic((InvalidFITSError, "corrupt|truncated|cannot be read")))
def _(tmp, rng):
    data = bytearray(_bytes_of(fits.HDUList([_cube_hdu(rng)]), tmp))
    data[200:260] = b"\0" * 60
    (p := tmp / "nul.fits").write_bytes(bytes(data))
    return p


@kind("bad_bitpix", "any", _generic((InvalidFITSError, "BITPIX")))
def _(tmp, rng):
    (p := tmp / "bitpix.fits").write_bytes(_cards(("SIMPLE", "T"), ("BITPIX", 12), ("NAXIS", 2), ("NAXIS1", 4),
                                                  ("NAXIS2", 4)) + bytes(2880))
    return p


@kind("negative_naxis", "any", _generic((InvalidFITSError, "NAXIS1|corrupt")))
def _(tmp, rng):
    (p := tmp / "negative.fits").write_bytes(_cards(("SIMPLE", "T"), ("BITPIX", -32), ("NAXIS", 2),
                                                    ("NAXIS1", -5), ("NAXIS2", 4)) + bytes(2880))
    return p


@kind("naxis_1000", "any", _generic((InvalidFITSError, "NAXIS|corrupt")))
def _(tmp, rng):
    (p := tmp / "naxis.fits").write_bytes(_cards(("SIMPLE", "T"), ("BITPIX", -32), ("NAXIS", 1000)) + bytes(2880))
    return p


@kind("header_claims_a_terabyte", "any", _generic((TruncatedFITSError, "truncated")))
def _(tmp, rng):
    (p := tmp / "claims.fits").write_bytes(_cards(("SIMPLE", "T"), ("BITPIX", -32), ("NAXIS", 3), ("NAXIS1", 10_000),
                                                  ("NAXIS2", 10_000), ("NAXIS3", 2_500)) + bytes(2880))
    return p


@kind("header_only", "any", {"cube": (ShapeError, "no image data"), "image": (ShapeError, "no image data"),
                             "spectra": (ShapeError, "no table with a FLUX column|no COADD table"),
                             "lightcone": (ShapeError, "not a 3-D lightcone"),
                             "galaxies": (ShapeError, "FITS file without a table")})
def _(tmp, rng):
    return _write(tmp / "header_only.fits", fits.HDUList([fits.PrimaryHDU()]))


@kind("folder", "any", {"*": (InvalidFITSError, "is a folder"), "galaxies": (InvalidTableError, "is a folder")})
def _(tmp, rng):
    (p := tmp / "folder.fits").mkdir()
    return p


@kind("missing", "any", {"*": (InvalidFITSError, "no such file"), "galaxies": (InvalidTableError, "no such file")})
def _(tmp, rng):
    return tmp / "missing.fits"


@kind("nul_in_path", "any", {"*": (PathNotAllowedError, "NUL byte")})
def _(tmp, rng):
    return Path(str(tmp / "cube\0.fits"))


@kind("name_of_10000_characters", "any", {"*": (PathNotAllowedError, "longer than the file system allows")},
      names_file=False)
def _(tmp, rng):
    return tmp / ("x" * 10_000 + ".fits")


@kind("path_of_10000_characters", "any", {"*": (PathNotAllowedError, "longer than the file system allows")},
      names_file=False)
def _(tmp, rng):
    return tmp / ("ab/" * 3_333 + "c.fits")


# cubes ------------------------------------------------------------------------------------------------------
def _cube_file(tmp: Path, rng, name: str, data=None, drop=(), **changes) -> Path:
    hdu = _cube_hdu(rng) if data is None else fits.PrimaryHDU(data, sdc2_header(*data.shape[::-1][:3]) if data.ndim >= 3
                                                              else None)
    for key in drop:
        hdu.header.remove(key, ignore_missing=True)
    for key, value in changes.items():
        hdu.header[key] = value
    return _write(tmp / name, fits.HDUList([hdu]))


def _check_scaled_cube(cube) -> None:
    np.testing.assert_array_equal(cube.channel(0)[0, :4], SCALED_PHYSICAL)
    np.testing.assert_array_equal(cube.spectrum(0, 1), np.full(cube.n_channels, 10.0))


def _check_info(out: str) -> None:
    assert "10 channels × 12 × 16 pixels" in out and "beam: 7.00 arcsec" in out


@kind("cube_1d", "cube", {"*": (ShapeError, "1-D")})
def _(tmp, rng):
    return _write(tmp / "array1d.fits", fits.HDUList([fits.PrimaryHDU(rng.normal(size=100).astype(np.float32))]))


@kind("cube_2d", "cube", {"cube": (ShapeError, "2-D image .* not a cube"),
                          "image": Accept(lambda im: np.testing.assert_allclose(im.data.shape, (1, 12, 16)))})
def _(tmp, rng):
    return _write(tmp / "image2d.fits", fits.HDUList([fits.PrimaryHDU(rng.normal(size=(12, 16)).astype(np.float32))]))


@kind("cube_5d", "cube", {"cube": (ShapeError, "5 axes"), "image": (ShapeError, "expected 2-D planes")})
def _(tmp, rng):
    return _write(tmp / "five.fits", fits.HDUList([fits.PrimaryHDU(np.ones((2, 2, 3, 12, 16), np.float32))]))


@kind("cube_4d_not_stokes", "cube", {"cube": (ShapeError, "not STOKES"), "image": (ShapeError, "expected 2-D planes")})
def _(tmp, rng):
    h = sdc2_header()
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "LINEAR", 1.0, 1.0, 1.0
    return _write(tmp / "four.fits", fits.HDUList([fits.PrimaryHDU(np.ones((3, 10, 12, 16), np.float32), h)]))


for _seed in (11, 12, 13):
    @kind(f"cube_truncated_{_seed}", "cube", {"*": (TruncatedFITSError, "truncated")})
    def _(tmp, rng, _seed=_seed):
        data = _bytes_of(fits.HDUList([_cube_hdu(rng)]), tmp)
        keep = int(np.random.default_rng(_seed).integers(2880 + 16, len(data) - 2000))
        return _cut(tmp / f"cut{_seed}.fits", data, keep)


@kind("cube_all_nan", "cube", {"*": (NonFiniteError, "NaN")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "nan.fits", np.full((10, 12, 16), np.nan, np.float32))


@kind("cube_all_inf", "cube", {"*": (NonFiniteError, "infinite")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "inf.fits", np.full((10, 12, 16), np.inf, np.float32))


@kind("cube_nan_bomb_1GB_sparse", "cube", {"cube": (NonFiniteError, "sampled"), "image": (NonFiniteError, "sampled")})
def _(tmp, rng):
    return _sparse_blank(tmp / "nanbomb.fits", (512, 1024, 1024), sdc2_header(1024, 1024, 512))


@kind("cube_singular_pc", "cube", {"cube": (InvalidWCSError, "singular"), "image": (InvalidWCSError, "singular")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "singular_pc.fits", PC1_1=1.0, PC1_2=1.0, PC2_1=1.0, PC2_2=1.0)


@kind("cube_cdelt_zero", "cube", {"cube": (InvalidWCSError, "singular"), "image": (InvalidWCSError, "singular")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "cdelt0.fits", CDELT1=0.0)


@kind("cube_no_spectral_axis", "cube", {"*": (SpectralAxisError, "no spectral axis")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "nospec.fits", CTYPE3="LINEAR", CUNIT3="")


@kind("cube_bad_cunit", "cube", {"*": (InvalidWCSError, "CUNIT3 = 'furlongs' cannot be read")})
def _(tmp, rng):
    return _cube_file(tmp, rng, "cunit.fits", CUNIT3="furlongs")


@kind("cube_empty_axis", "cube", {"*": (ShapeError, "no image data")})
def _(tmp, rng):
    return _write(tmp / "emptyaxis.fits", fits.HDUList([fits.PrimaryHDU(np.zeros((0, 12, 16), np.float32),
                                                                        sdc2_header())]))


@kind("cube_scaled_int16", "cube", {"cube": Accept(_check_scaled_cube, {"info": _check_info}),
                                    "image": Accept(lambda im: np.testing.assert_array_equal(
                                        im.data[0, 0, :4], SCALED_PHYSICAL))})
def _(tmp, rng):
    return _write(tmp / "scaled.fits", fits.HDUList([_scaled_primary(np.tile(SCALED_RAW, (10, 12, 4)), sdc2_header())]))


@kind("cube_scaled_int16_gzip", "cube", {"cube": Accept(_check_scaled_cube, {"info": _check_info}),
                                         "image": Accept(lambda im: np.testing.assert_array_equal(
                                             im.data[0, 0, :4], SCALED_PHYSICAL))})
def _(tmp, rng):
    raw = _bytes_of(fits.HDUList([_scaled_primary(np.tile(SCALED_RAW, (10, 12, 4)), sdc2_header())]), tmp)
    (p := tmp / "scaled.fits.gz").write_bytes(gzip.compress(raw))
    return p


@kind("cube_tile_compressed_truncated", "cube", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(rng.normal(size=(10, 64, 64)).astype(np.float32),
                                                              sdc2_header(64, 64, 10))])
    data = _bytes_of(hdul, tmp)
    return _cut(tmp / "cut.fits.fz", data, len(data) * 2 // 3)


@kind("cube_tile_compressed_bomb", "cube", {"*": (DecompressionBombError, "decompression bomb")})
def _(tmp, rng):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(np.full((10, 64, 64), np.nan, np.float32),
                                                              sdc2_header(64, 64, 10))])
    data = _bytes_of(hdul, tmp)
    card = f"{'ZNAXIS3':<8}= {10:>20}".encode()
    assert data.count(card) == 1
    (p := tmp / "bomb.fits.fz").write_bytes(data.replace(card, f"{'ZNAXIS3':<8}= {400_000:>20}".encode()))
    return p


# multi-band images --------------------------------------------------------------------------------------------
def _check_scaled_image(im) -> None:
    np.testing.assert_array_equal(im.data[0, 0, :4], SCALED_PHYSICAL)
    assert im.bands == ("g", "r", "i", "z") and im.wcs is not None


def _check_deblend_output(tmp: Path) -> None:
    t = Table.read(tmp / "out" / "out.ecsv")
    assert len(t) >= 1


@kind("image_bands_of_different_shapes", "image", {"*": (ShapeError, "different shapes")})
def _(tmp, rng):
    hdul = _image_hdul(rng)
    hdul[2].data = hdul[2].data[:20]
    return _write(tmp / "shapes.fits", hdul)


@kind("image_too_small", "image", {"*": (ShapeError, "too small")})
def _(tmp, rng):
    hdul = _image_hdul(rng)
    for hdu in hdul[1:]:
        hdu.data = hdu.data[:4, :6].copy()
    return _write(tmp / "small.fits", hdul)


@kind("image_all_nan", "image", {"*": (NonFiniteError, "no finite pixels")})
def _(tmp, rng):
    hdul = _image_hdul(rng)
    for hdu in hdul[1:]:
        hdu.data[:] = np.nan
    return _write(tmp / "nan.fits", hdul)


@kind("image_scaled_int16", "image", {"image": Accept(_check_scaled_image, {"deblend_sep": _check_deblend_output})})
def _(tmp, rng):
    hdus = [fits.PrimaryHDU()]
    for band in "griz":
        raw = np.round((_field(rng) - 10) / 2).astype(np.int16)
        raw[0, :4] = SCALED_RAW
        hdu = fits.ImageHDU(raw, _sky_header(32), name=band.upper(), do_not_scale_image_data=True)
        hdu.header["FILTER"], hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = band, 2.0, 10.0, -1
        hdus.append(hdu)
    return _write(tmp / "scaled_image.fits", fits.HDUList(hdus))


@kind("image_singular_wcs", "image", {"*": (InvalidWCSError, "singular")})
def _(tmp, rng):
    hdul = _image_hdul(rng)
    for hdu in hdul[1:]:
        hdu.header["PC1_1"] = hdu.header["PC1_2"] = hdu.header["PC2_1"] = hdu.header["PC2_2"] = 0.5
    return _write(tmp / "singular.fits", hdul)


@kind("image_truncated", "image", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    data = _bytes_of(_image_hdul(rng), tmp)
    return _cut(tmp / "cut_image.fits", data, len(data) - 3000)


@kind("image_nan_bomb_1GB_sparse", "image", {"*": (NonFiniteError, "sampled")})
def _(tmp, rng):
    return _sparse_blank(tmp / "nanbomb_image.fits", (16_384, 16_384), _sky_header(16_384))


# spectra ------------------------------------------------------------------------------------------------------
def _spectra_file(tmp: Path, rng, name: str, edit=None, n: int = 5) -> Path:
    hdul = _spectra_hdul(rng, n)
    if edit is not None:
        edited = edit(hdul)
        hdul = hdul if edited is None else edited
    return _write(tmp / name, hdul)


def _replace_columns(hdul: fits.HDUList, **columns) -> fits.HDUList:
    """The spectra table with some columns replaced (name → Column) or dropped (name → None)."""
    old = hdul[1]
    cols = [columns.get(c.name, c) for c in old.columns if columns.get(c.name, c) is not None]
    cols += [c for k, c in columns.items() if c is not None and k not in old.columns.names]
    new = fits.BinTableHDU.from_columns(cols, header=old.header, name="SPECTRA")
    return fits.HDUList([hdul[0], new])


def _check_five(s) -> None:
    assert len(s) == 5 and s.flux.shape == (5, 3840)
    assert abs(float(np.mean(s.flux)) - 5.0) < 0.05 and list(s.ids) == [f"s{i}" for i in range(5)]


def _check_classify_output(tmp: Path) -> None:
    t = Table.read(tmp / "out" / "out.ecsv")
    assert len(t) == 5 and np.allclose(sum(t[c] for c in t.colnames if c.startswith("p_")), 1, atol=2e-3)


def _check_embed_output(tmp: Path) -> None:
    t = Table.read(tmp / "out" / "out.ecsv")
    assert t.colnames == ["id", "PC 1", "PC 2"] and len(t) == 5 and np.isfinite(t["PC 1"]).all()


@kind("spectra_zero_rows", "spectra", {"*": (ShapeError, "no rows")})
def _(tmp, rng):
    def edit(h):
        h[1] = fits.BinTableHDU(h[1].data[:0], header=h[1].header, name="SPECTRA")
    return _spectra_file(tmp, rng, "zero_rows.fits", edit)


@kind("spectra_all_nan", "spectra", {"*": (NonFiniteError, "no usable pixel")})
def _(tmp, rng):
    def edit(h):
        h[1].data["FLUX"][:] = np.nan
    return _spectra_file(tmp, rng, "all_nan.fits", edit)


@kind("spectra_ivar_zero", "spectra", {"*": (NonFiniteError, "no usable pixel")})
def _(tmp, rng):
    def edit(h):
        h[1].data["IVAR"][:] = 0
    return _spectra_file(tmp, rng, "ivar0.fits", edit)


@kind("spectra_truncated_rows", "spectra", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    data = _bytes_of(_spectra_hdul(rng, 5), tmp)
    return _cut(tmp / "cut_spectra.fits", data, len(data) - 40_000)


@kind("spectra_scalar_flux", "spectra", {"*": (ShapeError, "FLUX must be")})
def _(tmp, rng):
    return _spectra_file(tmp, rng, "scalar.fits", lambda h: _replace_columns(
        h, FLUX=fits.Column("FLUX", "E", array=np.ones(5, np.float32)), IVAR=None))


@kind("spectra_string_flux", "spectra", {"*": (ShapeError, "FLUX must be")})
def _(tmp, rng):
    return _spectra_file(tmp, rng, "strings.fits", lambda h: _replace_columns(
        h, FLUX=fits.Column("FLUX", "40A", array=["x" * 40] * 5), IVAR=None))


@kind("spectra_no_wavelength_grid", "spectra", {"*": (ShapeError, "no wavelength grid")})
def _(tmp, rng):
    def edit(h):
        del h[1].header["COEFF0"]
    return _spectra_file(tmp, rng, "nogrid.fits", edit)


@kind("spectra_zero_step_grid", "spectra", {"*": (ShapeError, "COEFF1 = 0")})
def _(tmp, rng):
    def edit(h):
        h[1].header["COEFF1"] = 0.0
    return _spectra_file(tmp, rng, "zerostep.fits", edit)


@kind("spectra_ivar_shape", "spectra", {"*": (ShapeError, "IVAR has shape")})
def _(tmp, rng):
    return _spectra_file(tmp, rng, "ivarshape.fits", lambda h: _replace_columns(
        h, IVAR=fits.Column("IVAR", "100E", array=np.ones((5, 100), np.float32))))


@kind("spectra_five", "spectra", {"spectra": Accept(_check_five, {"spectra_classify": _check_classify_output,
                                                                  "spectra_embed": _check_embed_output})})
def _(tmp, rng):
    return _spectra_file(tmp, rng, "five.fits")


def _sdss_file(tmp: Path, rng, name: str, edit=None, **kw) -> Path:
    hdul = _sdss_hdul(rng, **kw)
    if edit is not None:
        edited = edit(hdul)
        hdul = hdul if edited is None else edited
    return _write(tmp / name, hdul)


def _check_sdss(s, z: float | None = 0.125) -> None:
    assert s.flux.shape == (1, 3840) and (s.ivar[0, :950] == 4.0).all() and (s.ivar[0, 950:] == 0).all()
    assert list(s.meta["sdss_class"]) == ["GALAXY"]
    if z is None:
        assert "z" not in s.meta
    else:
        assert float(s.meta["z"][0]) == pytest.approx(z)


@kind("sdss_cut_inside_specobj_header", "spectra", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    data = _bytes_of(_sdss_hdul(rng), tmp)
    start = data.index(b"XTENSION", data.index(b"COADD"))          # the SPECOBJ header
    return _cut(tmp / "spec-cut-header.fits", data, start + 1000)


@kind("sdss_cut_inside_coadd", "spectra", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    data = _bytes_of(_sdss_hdul(rng), tmp)
    return _cut(tmp / "spec-cut-coadd.fits", data, data.index(b"COADD") + 8000)


@kind("sdss_zero_rows", "spectra", {"*": (ShapeError, "no rows")})
def _(tmp, rng):
    def edit(h):
        h[1] = fits.BinTableHDU(h[1].data[:0], name="COADD")
    return _sdss_file(tmp, rng, "spec-empty.fits", edit)


@kind("sdss_all_nan", "spectra", {"*": (NonFiniteError, "no usable pixel")})
def _(tmp, rng):
    def edit(h):
        h[1].data["flux"][:] = np.nan
    return _sdss_file(tmp, rng, "spec-nan.fits", edit)


@kind("sdss_without_loglam", "spectra", {"*": (ShapeError, "lacks the column.* loglam")})
def _(tmp, rng):
    def edit(h):
        h[1] = fits.BinTableHDU.from_columns([c for c in h[1].columns if c.name != "loglam"], name="COADD")
    return _sdss_file(tmp, rng, "spec-nologlam.fits", edit)


@kind("sdss_outside_the_grid", "spectra", {"*": (ShapeError, "outside the grid")})
def _(tmp, rng):
    def edit(h):
        h[1].data["loglam"] = np.float32(3.0) + np.arange(1000, dtype=np.float32) * np.float32(1e-4)
    return _sdss_file(tmp, rng, "spec-blue.fits", edit)


@kind("sdss_good", "spectra", {"spectra": Accept(_check_sdss)})
def _(tmp, rng):
    return _sdss_file(tmp, rng, "spec-0001-2-3.fits")


@kind("sdss_without_z", "spectra", {"spectra": Accept(lambda s: _check_sdss(s, None))})
def _(tmp, rng):
    return _sdss_file(tmp, rng, "spec-0001-2-4.fits", z=False)


# lightcones ---------------------------------------------------------------------------------------------------
def _lightcone_file(tmp: Path, rng, name: str, edit=None, **kw) -> Path:
    hdul = _lightcone_hdul(rng, **kw)
    if edit is not None:
        edited = edit(hdul)
        hdul = hdul if edited is None else edited
    return _write(tmp / name, hdul)


def _check_lightcone(lc) -> None:
    np.testing.assert_allclose(lc.redshift, np.linspace(6, 7, 20))
    assert lc.tb.shape == (8, 8, 20) and lc.cell_mpc == 4.0 and np.isfinite(lc.tb).all()


SHORT_LOS = (ShapeError, "line of sight past z = 6")     # 20 slices of 4 Mpc: too short for the model


@kind("lightcone_redshift_column_named_REDSHIFT", "lightcone",
      {"lightcone": Accept(_check_lightcone), "cli:lightcone": SHORT_LOS})
def _(tmp, rng):
    return _lightcone_file(tmp, rng, "lc_REDSHIFT.fits", z_column="REDSHIFT")


@kind("lightcone_without_a_redshift_column", "lightcone", {"*": (MissingWCSError, "none named z or REDSHIFT")})
def _(tmp, rng):
    return _lightcone_file(tmp, rng, "lc_noz.fits", z_column="distance")


@kind("lightcone_redshift_rows", "lightcone", {"*": (ShapeError, "has 19 rows for 20 slices")})
def _(tmp, rng):
    def edit(h):
        h[1] = fits.BinTableHDU(h[1].data[:19], name="REDSHIFT")
    return _lightcone_file(tmp, rng, "lc_rows.fits", edit)


@kind("lightcone_redshift_decreasing", "lightcone", {"*": (ShapeError, "must increase")})
def _(tmp, rng):
    def edit(h):
        h[1].data["z"] = h[1].data["z"][::-1].copy()
    return _lightcone_file(tmp, rng, "lc_decreasing.fits", edit)


@kind("lightcone_redshift_image", "lightcone", {"*": (ShapeError, "an image, not a table")})
def _(tmp, rng):
    def edit(h):
        h[1] = fits.ImageHDU(np.linspace(6, 7, 20), name="REDSHIFT")
    return _lightcone_file(tmp, rng, "lc_zimage.fits", edit)


@kind("lightcone_2d", "lightcone", {"*": (ShapeError, "not a 3-D lightcone")})
def _(tmp, rng):
    def edit(h):
        h[0].data = h[0].data[0]
    return _lightcone_file(tmp, rng, "lc_2d.fits", edit)


@kind("lightcone_with_nan", "lightcone", {"*": (NonFiniteError, "1 NaN")})
def _(tmp, rng):
    def edit(h):
        h[0].data[3, 2, 1] = np.nan
    return _lightcone_file(tmp, rng, "lc_nan.fits", edit)


@kind("lightcone_without_cdelt1", "lightcone", {"*": (MissingWCSError, "CDELT1")})
def _(tmp, rng):
    def edit(h):
        del h[0].header["CDELT1"]
    return _lightcone_file(tmp, rng, "lc_nocell.fits", edit)


@kind("lightcone_text_cdelt1", "lightcone", {"*": (MissingWCSError, "not a positive cell size")})
def _(tmp, rng):
    def edit(h):
        h[0].header["CDELT1"] = "four"
    return _lightcone_file(tmp, rng, "lc_textcell.fits", edit)


@kind("lightcone_bunit_jy", "lightcone", {"*": (ShapeError, "BUNIT 'Jy'")})
def _(tmp, rng):
    def edit(h):
        h[0].header["BUNIT"] = "Jy"
    return _lightcone_file(tmp, rng, "lc_jy.fits", edit)


@kind("lightcone_truncated", "lightcone", {"*": (TruncatedFITSError, "truncated")})
def _(tmp, rng):
    data = _bytes_of(_lightcone_hdul(rng), tmp)
    return _cut(tmp / "lc_cut.fits", data, 2880 + 5000)


@kind("lightcone_scaled_int16", "lightcone", {"lightcone": Accept(lambda lc: np.testing.assert_array_equal(
    lc.tb[0, 0, :4], [10.0, 12.0, 14.0, 16.0])), "cli:lightcone": SHORT_LOS})
def _(tmp, rng):
    raw = np.broadcast_to(np.arange(20, dtype=np.int16)[:, None, None], (20, 8, 8)).copy()
    hdul = _lightcone_hdul(rng)
    hdu = fits.PrimaryHDU(raw, hdul[0].header, do_not_scale_image_data=True)
    hdu.header["BSCALE"], hdu.header["BZERO"] = 2.0, 10.0
    return _write(tmp / "lc_int16.fits", fits.HDUList([hdu, hdul[1]]))


@kind("lightcone_gzip", "lightcone", {"lightcone": Accept(_check_lightcone), "cli:lightcone": SHORT_LOS})
def _(tmp, rng):
    (p := tmp / "lc.fits.gz").write_bytes(gzip.compress(_bytes_of(_lightcone_hdul(rng), tmp)))
    return p


# galaxy tables ------------------------------------------------------------------------------------------------
def _galaxy_file(tmp: Path, rng, name: str, edit=None) -> Path:
    table = _galaxy_table(rng)
    if edit is not None:
        edited = edit(table)
        table = table if edited is None else edited
    table.write(tmp / name, overwrite=True)
    return tmp / name


@kind("galaxies_missing_columns", "galaxies", {"*": (ShapeError, "lacks columns")})
def _(tmp, rng):
    return _galaxy_file(tmp, rng, "g_missing.ecsv", lambda t: t.remove_column("log_SFR"))


@kind("galaxies_no_rows", "galaxies", {"*": (ShapeError, "no rows")})
def _(tmp, rng):
    return _galaxy_file(tmp, rng, "g_empty.ecsv", lambda t: t[:0])


@kind("galaxies_with_nan", "galaxies", {"*": (NonFiniteError, "row 2, column log_M_star")})
def _(tmp, rng):
    def edit(t):
        t["log_M_star"][1] = np.nan
    return _galaxy_file(tmp, rng, "g_nan.ecsv", edit)


@kind("galaxies_text_values", "galaxies", {"*": (ShapeError, "column log_M_gas does not hold numbers")})
def _(tmp, rng):
    def edit(t):
        t["log_M_gas"] = ["big", "bigger", "huge"]
    return _galaxy_file(tmp, rng, "g_text.ecsv", edit)


@kind("galaxies_garbage_ecsv", "galaxies", {"*": NOT_TABLE})
def _(tmp, rng):
    (p := tmp / "g_garbage.ecsv").write_text("# %ECSV 1.0\n# ---\n# datatype: [\n" + rng.bytes(200).hex())
    return p


@kind("galaxies_good_csv", "galaxies", {"galaxies": Accept(lambda r: np.testing.assert_allclose(r[0].shape, (3, 11)))})
def _(tmp, rng):
    return _galaxy_file(tmp, rng, "g.csv")


# --- targets ------------------------------------------------------------------------------------------------
LOADERS = {
    "open_cube": ("cube", open_cube),
    "open_multiband": ("image", open_multiband),
    "open_spectra": ("spectra", open_spectra),
    "open_sdss_spec": ("spectra", lambda p: open_sdss_spec([p])),
    "open_lightcone": ("lightcone", open_lightcone),
    "read_galaxies": ("galaxies", read_galaxies),
}
CLI = {
    "info": ("cube", lambda p, o: ["info", p, "--as", "cube"]),
    "hi_detect": ("cube", lambda p, o: ["hi", "detect", p, "-o", o]),
    "hi_detect_baseline": ("cube", lambda p, o: ["hi", "detect", p, "-o", o, "--method", "baseline"]),
    "deblend_sep": ("image", lambda p, o: ["deblend", p, "-o", o, "--method", "sep"]),
    "deblend_model": ("image", lambda p, o: ["deblend", p, "-o", o]),
    "spectra_classify": ("spectra", lambda p, o: ["spectra", "classify", p, "-o", o]),
    "spectra_embed": ("spectra", lambda p, o: ["spectra", "embed", p, "-o", o, "--method", "pca"]),
    "infer_lightcone": ("lightcone", lambda p, o: ["infer", "lightcone", p, "-o", o, "-n", "200"]),
    "infer_galaxy": ("galaxies", lambda p, o: ["infer", "galaxy", p, "-o", o, "-n", "200"]),
}
# SDSS-only kinds are not our spectra table: open_sdss_spec refuses the table kinds as "no COADD table"
SDSS_ONLY = {"open_sdss_spec": (ShapeError, "no COADD table")}


def _expectation(k: Kind, target: str, family: str, *, cli: bool):
    """What ``target`` (of ``family``) must do with a file of kind ``k``."""
    if cli and f"cli:{family}" in k.expect:
        return k.expect[f"cli:{family}"]
    exp = k.expect.get(family, k.expect.get("*"))
    if (target == "open_sdss_spec" and k.family == "spectra" and not k.name.startswith("sdss")
            and not isinstance(exp, Accept) and exp[0] is not TruncatedFITSError):
        return SDSS_ONLY[target]
    if target == "open_sdss_spec" and k.name == "spectra_five":
        return SDSS_ONLY[target]
    return exp


def _cases(cli: bool):
    targets = CLI if cli else LOADERS
    for k in K:
        for target, (family, _) in targets.items():
            if k.family not in ("any", family) and family not in k.expect:
                continue
            exp = _expectation(k, target, family, cli=cli)
            if exp is None:
                continue
            if cli and isinstance(exp, Accept) and target not in exp.cli:
                continue                   # accepted: the loader checks the numbers, no model run needed
            yield pytest.param(k, target, exp, id=f"{k.name}-{target}")


def _build(k: Kind, tmp_path: Path) -> Path:
    rng = np.random.default_rng(zlib.crc32(k.name.encode()))
    return k.build(tmp_path, rng)


def _assert_names_file(k: Kind, message: str, path: Path, tmp_path: Path) -> None:
    assert str(tmp_path) not in message, f"the message shows the server's folders: {message}"
    if k.names_file:
        assert display_name(path) in message, f"the message does not name {display_name(path)}: {message}"


@pytest.mark.parametrize("k, target, exp", list(_cases(cli=False)))
def test_loader_refuses_with_a_typed_error_or_gives_correct_numbers(k, target, exp, tmp_path):
    path = _build(k, tmp_path)
    load = LOADERS[target][1]
    if isinstance(exp, Accept):
        with _quiet():
            result = load(path)
        if exp.check is not None:
            exp.check(result)
        return
    error, pattern = exp
    with _quiet(), pytest.raises(error, match=pattern) as info:
        load(path)
    assert isinstance(info.value, AstroMLError)
    assert "\n" not in str(info.value)
    _assert_names_file(k, str(info.value), path, tmp_path)


@pytest.mark.parametrize("k, command, exp", list(_cases(cli=True)))
def test_cli_refuses_with_one_error_line_or_writes_correct_output(k, command, exp, tmp_path, capsys):
    path = _build(k, tmp_path)
    (tmp_path / "out").mkdir()
    argv = CLI[command][1](str(path), str(tmp_path / "out" / "out.ecsv"))
    with _quiet():
        rc = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if isinstance(exp, Accept):
        assert rc == 0, err
        exp.cli[command](out if command == "info" else tmp_path)
        return
    error, pattern = exp
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert rc == 2 and len(lines) == 1 and err.rstrip().splitlines()[-1] == lines[0], err
    assert re.search(pattern, lines[0]), lines[0]
    assert not (tmp_path / "out" / "out.ecsv").exists()
    _assert_names_file(k, lines[0], path, tmp_path)


def test_the_fuzz_corpus_is_big_and_covers_every_target():
    assert len(K) >= 60
    loader_cases, cli_cases = list(_cases(cli=False)), list(_cases(cli=True))
    assert {c.values[1] for c in loader_cases} == set(LOADERS)
    assert {c.values[1] for c in cli_cases} == set(CLI)


# --- bombs: refused before the data is read ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return gzip_bomb(tmp_path_factory.mktemp("bomb") / "nan_blocks.fits.gz", gigabytes=1.0)


def test_the_bomb_is_a_megabyte_that_says_it_expands_to_a_gigabyte(bomb):
    assert bomb.stat().st_size < 1.5 * 2**20
    with gzip.open(bomb) as gz:
        header = fits.Header.fromstring(gz.read(2880))
    assert 4 * header["NAXIS1"] * header["NAXIS2"] * header["NAXIS3"] >= 2**30


@pytest.mark.parametrize("reader", ["open_cube", "open_multiband", "open_lightcone", "open_spectra", "open_sdss_spec",
                                    "read_galaxies", "info"])
def test_a_gzip_bomb_is_refused_in_under_two_seconds(bomb, reader, capsys):
    start = time.perf_counter()
    if reader == "info":
        rc = main(["info", str(bomb)])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("error:") and "decompression bomb" in err
    else:
        expected = r"nan_blocks.fits.gz would expand from [\d,.]+ (bytes|MB) to 1.0 GB \(1,0\d\d×\)"
        with pytest.raises(DecompressionBombError, match=expected):
            LOADERS[reader][1](bomb)
    assert time.perf_counter() - start < 2.0


def test_the_ratio_limit_is_a_setting(tmp_path, monkeypatch):
    small = gzip_bomb(tmp_path / "blank.fits.gz", gigabytes=0.08)      # 80 MB of NaN in 80 kB
    with pytest.raises(DecompressionBombError, match=r"\(1,0\d\d×\)"):
        open_cube(small)
    monkeypatch.setenv("ASTROML_MAX_COMPRESSION_RATIO", "1e6")
    with pytest.raises(NonFiniteError, match="every value is NaN"):
        open_cube(small)


def test_the_decompressed_size_counts_against_the_size_limit(bomb):
    with pytest.raises(DecompressionBombError, match="above the limit of 512.0 MB"):
        open_cube(bomb, max_bytes=2**29)


@pytest.mark.parametrize("name, build, load", [
    ("cube", lambda tmp: _sparse_blank(tmp / "c.fits", (512, 1024, 1024), sdc2_header(1024, 1024, 512)), open_cube),
    ("image", lambda tmp: _sparse_blank(tmp / "i.fits", (16_384, 16_384), _sky_header(16_384)), open_multiband)])
def test_an_all_nan_gigabyte_is_refused_in_under_two_seconds(name, build, load, tmp_path):
    path = build(tmp_path)
    assert path.stat().st_size >= 2**29
    start = time.perf_counter()
    with pytest.raises(NonFiniteError, match="sampled"):
        load(path)
    assert time.perf_counter() - start < 2.0


def test_a_big_cube_with_signal_in_one_sampled_channel_still_opens(tmp_path):
    path = _sparse_blank(tmp_path / "c.fits", (512, 1024, 1024), sdc2_header(1024, 1024, 512))
    head = len(fits.getheader(path).tostring())
    with open(path, "r+b") as fh:                      # channel 0, pixel (0, 0) = 1 (big-endian int16)
        fh.seek(head)
        fh.write(np.array([1], ">i2").tobytes())
    assert open_cube(path).channel(0)[0, 0] == 1.0


# --- paths -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, pattern", [("cube\0.fits", "NUL byte"), ("x" * 10_000, "longer than the file system"),
                                          ("a/" * 5_000 + "b.fits", "longer than the file system")])
def test_resolve_under_root_refuses_impossible_paths_with_a_short_message(bad, pattern, tmp_path):
    from astroml_core.data.paths import resolve_under_root

    with pytest.raises(PathNotAllowedError, match=pattern) as info:
        resolve_under_root(bad, tmp_path)
    assert len(str(info.value)) < 300 and str(tmp_path) not in str(info.value)


@contextlib.contextmanager
def _quiet():
    """Warnings (no celestial WCS, archival headers) ignored: the cases check errors and numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
