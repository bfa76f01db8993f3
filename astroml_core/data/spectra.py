"""Sets of 1-D spectra on one log-λ grid: our FITS table, or SDSS spec-PLATE-MJD-FIBER files.

A ``SpectrumSet`` keeps flux, ivar and and_mask as (N, L) arrays that may be memory-mapped views of a
FITS table (the 40k-spectrum demo is 1.4 GB), so only the rows asked for are ever read; ``rows``
returns them as native float32 with no-data pixels (ivar = 0, NaN flux) zeroed.

Files read:
- our table (``write_spectra``): HDU 1 a binary table with vector columns FLUX, IVAR, AND_MASK
  (L each) and per-spectrum columns (ID, and any of TRUE_CLASS, Z, SNR, ...); the grid in the header
  as SDSS writes it, COEFF0 + COEFF1 · i in log10 Å;
- SDSS spec files: HDU 1 COADD (flux, loglam, ivar, and_mask per pixel), HDU 2 SPECOBJ (CLASS, SUBCLASS,
  Z). Their grids are the same 1e-4 steps in log λ, offset by whole pixels: each is placed on the set's
  grid by its offset, pixels outside it carrying no data;
- every other format in ``spectrum_formats.SUPPORTED_SPECTRUM_FORMATS`` (DESI, LAMOST, spSpec, spPlate, 6dF,
  2dF, wcs1d-fits, tabular FITS), resampled onto the classifier's grid; ``notes`` says what was assumed.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..errors import AstroMLError, ShapeError
from .fitsfile import display_name, one_line, open_fits_checked
from .spectral_grid import loglam_grid
from .spectrum_resample import ascii_note
from .spectrum_set import SpectrumSet, check_usable

__all__ = ["SpectrumSet", "open_spectra", "write_spectra", "write_spectra_parts", "open_sdss_spec", "GRID_STEP"]

GRID_STEP = 1e-4
MAX_PIXELS = 20_000


def _table_hdu(spectra: SpectrumSet, widths: dict[str, int] | None = None) -> fits.BinTableHDU:
    """The set as our binary table HDU; ``widths`` fixes the character width of string columns (ID, meta)."""
    widths = widths or {}
    width = lambda name, values: widths.get(name, max(1, max((len(str(v)) for v in values), default=1)))  # noqa: E731
    npix = spectra.flux.shape[1]
    cols = [fits.Column("ID", f"{width('ID', spectra.ids)}A", array=spectra.ids),
            fits.Column("FLUX", f"{npix}E", unit="1e-17 erg/(s cm2 Angstrom)", array=spectra.flux),
            fits.Column("IVAR", f"{npix}E", array=spectra.ivar)]
    if spectra.and_mask is not None:
        cols.append(fits.Column("AND_MASK", f"{npix}J", array=spectra.and_mask))
    for name, values in spectra.meta.items():
        values = np.asarray(values)
        fmt = f"{width(name.upper(), values)}A" if values.dtype.kind in "US" else "D"
        cols.append(fits.Column(name.upper(), fmt, array=values))
    hdu = fits.BinTableHDU.from_columns(cols, name="SPECTRA")
    hdu.header["COEFF0"] = (float(spectra.loglam[0]), "log10 wavelength of pixel 0 (Angstrom, vacuum)")
    hdu.header["COEFF1"] = (float(spectra.loglam[1] - spectra.loglam[0]), "log10 wavelength step per pixel")
    for i, note in enumerate(spectra.notes[:99], 1):         # how the set was read, for whoever opens it next
        hdu.header[f"NOTE{i}"] = ascii_note(note)
    return hdu


def write_spectra(path: str | os.PathLike, spectra: SpectrumSet) -> Path:
    """Write a set as one FITS binary table (vector FLUX/IVAR/AND_MASK columns, grid in COEFF0/COEFF1)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(), _table_hdu(spectra)]).writeto(path, overwrite=True)
    return path


def write_spectra_parts(path: str | os.PathLike, parts, n: int, widths: dict[str, int]) -> Path:
    """Write ``n`` spectra arriving as consecutive SpectrumSet ``parts`` into one table like
    :func:`write_spectra`'s, holding one part at a time: the header is written first (for ``n`` rows), then
    each part's rows in FITS's big-endian layout (the 40k demo survey is 1.8 GB; a laptop has 4 GB).
    ``widths`` fixes the string columns' widths, which every part must fit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = iter(parts)
    first = next(parts)
    hdu = _table_hdu(first, widths)
    header = hdu.header.copy()
    header["NAXIS2"] = n
    layout = hdu.columns.dtype.newbyteorder(">")
    fits.PrimaryHDU().writeto(path, overwrite=True)
    written = 0
    with open(path, "ab") as fh:
        fh.write(header.tostring().encode("ascii"))
        for part in itertools.chain([first], parts):
            rows = np.zeros(len(part), layout)
            rows["ID"], rows["FLUX"], rows["IVAR"] = np.char.encode(part.ids.astype(str)), part.flux, part.ivar
            if part.and_mask is not None:
                rows["AND_MASK"] = part.and_mask
            for name, values in part.meta.items():
                values = np.asarray(values)
                rows[name.upper()] = np.char.encode(values.astype(str)) if values.dtype.kind in "US" else values
            fh.write(rows.tobytes())
            written += len(part)
        fh.write(b"\0" * (-(written * header["NAXIS1"]) % 2880))
    if written != n:
        path.unlink()
        raise ValueError(f"the parts held {written} spectra, not {n}")
    return path


def _meta(table, exclude: set[str]) -> dict[str, np.ndarray]:
    """Per-spectrum (scalar) columns, lower-cased, strings stripped."""
    out = {}
    for name in table.columns.names:
        if name.upper() in exclude:
            continue
        values = np.asarray(table[name])
        if values.ndim != 1:
            continue
        out[name.lower()] = np.char.strip(values.astype(str)) if values.dtype.kind in "SU" else values
    return out


def open_spectra(path: str | os.PathLike, *, max_bytes: int | None = None) -> SpectrumSet:
    """Open our spectra table, one SDSS spec file, or any format in ``SUPPORTED_SPECTRUM_FORMATS`` (read by
    :mod:`.spectrum_formats`, placed on the classifier's grid by :mod:`.spectrum_resample`, every conversion in
    ``notes``); raises typed errors on anything else, UnsupportedFormatError listing the formats we read.

    Refused from our table: no rows, a missing or broken wavelength grid, IVAR of another shape, and a set
    whose first spectra hold no usable pixel (finite flux with ivar > 0).
    """
    from .spectrum_formats import is_lamost, read_foreign

    hdul = open_fits_checked(path, max_bytes)
    path = Path(hdul.filename() or path)
    name = path.name
    if "COADD" in [h.name.upper() for h in hdul] and not is_lamost(hdul):
        hdul.close()
        return open_sdss_spec([path])
    tables = [h for h in hdul if isinstance(h, fits.BinTableHDU)]
    cols = {c.upper() for c in tables[0].columns.names} if tables else set()
    if "FLUX" not in cols or is_lamost(hdul) or ("COEFF0" not in tables[0].header and "LOGLAM" not in cols
                                                 and cols & {"WAVE", "WAVELENGTH", "LAMBDA", "FREQ"}):
        from .spectrum_resample import place_on_grid

        hdul.close()                      # read into memory: astropy maps no scaled integer image (DESI masks)
        hdul = open_fits_checked(path, max_bytes, memmap=False)
        try:
            return place_on_grid(read_foreign(hdul, name), loglam_grid(), name, path)
        finally:
            hdul.close()
    hdu = tables[0]
    cols = {c.upper(): c for c in hdu.columns.names}
    if hdu.header.get("NAXIS2", 0) == 0:
        raise ShapeError(f"{name}: its spectra table has no rows; nothing to classify")
    data = hdu.data
    flux = _column(data, cols["FLUX"], name)
    if flux.ndim != 2 or flux.dtype.kind not in "fiu" or not 16 <= flux.shape[1] <= MAX_PIXELS:
        raise ShapeError(f"{name}: FLUX must be one numeric vector of 16–{MAX_PIXELS} pixels per row, got "
                         f"{flux.dtype.kind!r} values of shape {flux.shape}")
    ivar = _column(data, cols["IVAR"], name) if "IVAR" in cols else np.ones_like(flux, dtype=np.float32)
    if ivar.shape != flux.shape or ivar.dtype.kind not in "fiu":
        raise ShapeError(f"{name}: IVAR has shape {ivar.shape}, FLUX {flux.shape}; they must match")
    loglam = _table_grid(hdu, data, cols, flux.shape[1], name)
    ids = np.char.strip(np.asarray(data[cols["ID"]]).astype(str)) if "ID" in cols else \
        np.array([f"{path.stem}-{i}" for i in range(len(flux))])
    check_usable(np.asarray(flux[: min(len(flux), 64)], np.float64),
                  np.asarray(ivar[: min(len(ivar), 64)], np.float64), name, "its first spectra hold")
    meta = _meta(hdu.data, {"FLUX", "IVAR", "AND_MASK", "ID", "LOGLAM"})
    notes = tuple(str(hdu.header[f"NOTE{i}"]) for i in range(1, 100) if f"NOTE{i}" in hdu.header)
    return SpectrumSet(loglam, flux, ivar, data[cols["AND_MASK"]] if "AND_MASK" in cols else None, ids, meta, path,
                       notes)


def _column(data, column: str, name: str) -> np.ndarray:
    """One column of a FITS table, with astropy's failures on a damaged column as a typed error."""
    try:
        return data[column]
    except Exception as exc:  # astropy raises ValueError, TypeError, ... on inconsistent column formats
        raise ShapeError(f"{name}: its {column} column cannot be read ({one_line(exc, 120)}); the table is "
                         "damaged: write it again") from None


def _table_grid(hdu, data, cols: dict[str, str], npix: int, name: str) -> np.ndarray:
    """log10 λ of each pixel: COEFF0 + COEFF1·i from the header, or the first row of a LOGLAM column."""
    head = hdu.header
    if "COEFF0" in head and "COEFF1" in head:
        c0, c1 = head["COEFF0"], head["COEFF1"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in (c0, c1)) \
                or c1 <= 0 or not 2.0 < c0 < 6.0:
            raise ShapeError(f"{name}: its wavelength grid COEFF0 = {c0!r}, COEFF1 = {c1!r} is not a log10 Å grid "
                             "(COEFF0 about 3.5, COEFF1 > 0, e.g. 1e-4)")
        return c0 + c1 * np.arange(npix)
    if "LOGLAM" in cols:
        loglam = np.asarray(_column(data, cols["LOGLAM"], name)[0], np.float64).ravel()
        if loglam.shape != (npix,) or not np.isfinite(loglam).all() or (np.diff(loglam) <= 0).any():
            raise ShapeError(f"{name}: its LOGLAM column must hold {npix} finite, increasing log10 Å values per row")
        return loglam
    raise ShapeError(f"{name}: no wavelength grid (COEFF0/COEFF1 header keywords or a LOGLAM column)")


def _sdss_one(path: Path) -> tuple[np.ndarray, ...]:
    """(loglam, flux, ivar, and_mask, meta) of one SDSS spec file, every part checked."""
    from .spectrum_formats import sdss_columns, sdss_meta

    hdul = open_fits_checked(path, None)
    path = Path(hdul.filename() or path)
    name = path.name
    try:
        hdu = hdul["COADD"] if "COADD" in [h.name for h in hdul] else None
        if not isinstance(hdu, fits.BinTableHDU):
            raise ShapeError(f"{name} has no COADD table: expected an SDSS spec-PLATE-MJD-FIBER file")
        if hdu.header.get("NAXIS2", 0) == 0:
            raise ShapeError(f"{name}: its COADD table has no rows; the spectrum is empty")
        coadd = hdu.data
        cols = sdss_columns(hdu, name)
        loglam = np.asarray(_column(coadd, cols["loglam"], name), np.float64).ravel()
        flux = np.asarray(_column(coadd, cols["flux"], name), np.float32).ravel()
        ivar = np.asarray(_column(coadd, cols["ivar"], name), np.float32).ravel()
        mask = np.asarray(_column(coadd, cols["and_mask"], name), np.int32).ravel() if "and_mask" in cols \
            else np.zeros(flux.size, np.int32)
        if not loglam.size == flux.size == ivar.size == mask.size:
            raise ShapeError(f"{name}: its COADD columns have different lengths")
        if not np.isfinite(loglam).all():
            raise ShapeError(f"{name}: its loglam column holds NaN or infinite wavelengths")
        check_usable(flux, ivar, name, "its spectrum has")
        meta = sdss_meta(hdul, name)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, AstroMLError):
            raise
        raise ShapeError(f"{name}: its COADD table cannot be read as numbers ({one_line(exc, 120)})") from None
    finally:
        hdul.close()
    return loglam, flux, ivar, mask, meta


def open_sdss_spec(paths: list[str | os.PathLike], loglam: np.ndarray | None = None) -> SpectrumSet:
    """SDSS spec-PLATE-MJD-FIBER.fits files placed on one grid (default: the simulator's 3,840 pixels)."""
    grid = loglam_grid() if loglam is None else loglam
    n = len(paths)
    flux = np.zeros((n, grid.size), np.float32)
    ivar = np.zeros_like(flux)
    mask = np.zeros((n, grid.size), np.int32)
    metas = []
    for i, p in enumerate(paths):
        lam, f, iv, m, meta = _sdss_one(Path(p))
        idx = np.rint((lam - grid[0]) / GRID_STEP).astype(np.int64)
        if np.abs(lam - (grid[0] + idx * GRID_STEP)).max(initial=0) > 0.1 * GRID_STEP:
            raise ShapeError(f"{display_name(p)}: its log-λ grid is not on 1e-4 steps aligned with ours")
        ok = (idx >= 0) & (idx < grid.size)
        if not ok.any():
            raise ShapeError(f"{display_name(p)}: its wavelengths {10 ** lam.min():,.0f}–{10 ** lam.max():,.0f} Å lie "
                             f"outside the grid {10 ** grid[0]:,.0f}–{10 ** grid[-1]:,.0f} Å")
        flux[i, idx[ok]], ivar[i, idx[ok]], mask[i, idx[ok]] = f[ok], iv[ok], m[ok]
        check_usable(flux[i], ivar[i], display_name(p), f"within {10 ** grid[0]:,.0f}–{10 ** grid[-1]:,.0f} Å its spectrum has")
        metas.append(meta)
    keys = sorted({k for m in metas for k in m})
    meta = {k: np.array([m.get(k, np.nan if k == "z" else "") for m in metas]) for k in keys}
    ids = np.array([Path(p).stem for p in paths])
    return SpectrumSet(grid, flux, ivar, mask, ids, meta, Path(paths[0]) if n == 1 else None,
                       ("read as SDSS-III/IV spec (COADD table): vacuum log10 λ in 1e-4 steps, placed on the "
                        "classifier's grid by whole pixels",))
