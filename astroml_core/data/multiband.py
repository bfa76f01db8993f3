"""Multi-band images for deblending: one FITS image HDU per band, a cube with a band axis, or one 2-D image.

Images are small next to cubes (a 4k × 4k × 4-band field is 256 MB), so they are read into memory,
validated (same shape in every band, finite pixels present, a size limit) and carried with their WCS,
band names and, when the header says, PSF FWHM and sky noise.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..errors import InvalidFITSError, InvalidWCSError, NoCelestialWCSWarning, NonFiniteError, ShapeError, warn
from .cube import _open_fits, _reader_for, invertible
from .fitsfile import checked_file, one_line

__all__ = ["MultibandImage", "open_multiband"]

_FULL_CHECK_BYTES = 256 * 2**20   # images above this are sampled for a finite pixel before being read


@dataclass(frozen=True)
class MultibandImage:
    """Pixels (band, y, x) float32 with NaN for blank pixels, band names, celestial WCS (or None)."""

    path: Path
    data: np.ndarray
    bands: tuple[str, ...]
    wcs: WCS | None
    psf_fwhm_arcsec: tuple[float | None, ...]
    sky_sigma: tuple[float | None, ...]
    unit: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape[1:]

    @property
    def pixel_arcsec(self) -> float | None:
        if self.wcs is None:
            return None
        return float(np.sqrt(abs(np.linalg.det(self.wcs.pixel_scale_matrix))) * 3600)


def _images(hdul: fits.HDUList, name: str) -> list[tuple[fits.Header, object]]:
    """(header, HDU) of every HDU with a non-empty image."""
    out = [(h.header, h) for h in hdul if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
           and h.header.get("NAXIS", 0) > 0 and all(n > 0 for n in h.shape)]
    if not out:
        raise ShapeError(f"{name} holds no image data (no HDU with NAXIS > 0)")
    return out


def _planes(hdu, path: Path) -> np.ndarray:
    """The HDU's pixels as float32 (band, y, x) in physical units: BSCALE/BZERO applied, BLANK and non-finite
    values NaN (the same readers as cubes, so a scaled integer image means what its header says)."""
    reader = _reader_for(hdu, path)              # ShapeError for 1-D data, TruncatedFITSError on a short file
    lead_shape = reader.shape[:-2]
    if sum(n > 1 for n in lead_shape) > 1:
        raise ShapeError(f"{path.name}: an image HDU has shape {reader.shape[::-1]} (FITS order); expected 2-D "
                         "planes or a 3-D cube with the band on the third axis")
    leads = list(np.ndindex(*lead_shape)) if lead_shape else [()]
    _check_sampled_finite(reader, leads, path.name)
    return reader.block(leads)


def _check_sampled_finite(reader, leads: list[tuple], name: str) -> None:
    """NonFiniteError, before reading it all, for an image above 256 MB whose sampled rows (64 spread rows in up to
    64 spread bands) are all blank: an all-NaN gigabyte is refused at once (smaller images are checked whole)."""
    ny, nx = reader.shape[-2:]
    if 4 * ny * nx * len(leads) <= _FULL_CHECK_BYTES:
        return
    rows = np.unique(np.linspace(0, ny - 1, min(ny, 64)).astype(int))
    bands = np.unique(np.linspace(0, len(leads) - 1, min(len(leads), 64)).astype(int))
    if not any(np.isfinite(reader.rows(leads[b], int(y), int(y) + 1)).any() for b in bands for y in rows):
        raise NonFiniteError(f"{name}: the {len(rows)} rows sampled in {len(bands)} of its {len(leads)} band(s) hold no "
                             "finite pixel (all NaN, blank or infinite); nothing to deblend")


def _band_name(header: fits.Header, fallback: str) -> str:
    for key in ("FILTER", "BAND", "EXTNAME"):
        value = str(header.get(key, "")).strip()
        if value and value.upper() not in ("PRIMARY",):
            return value
    return fallback


def _celestial(header: fits.Header, name: str) -> WCS | None:
    """The image's celestial WCS, None (with a warning) when it has none; a singular one is refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(header).celestial
    except Exception as exc:
        if "singular" in str(exc).lower():
            raise InvalidWCSError(f"{name}: its WCS matrix is singular (a CDELTi of 0, or PCi_j / CDi_j cards with no "
                                  "inverse), so its pixels have no sky position; fix those cards") from None
        raise InvalidFITSError(f"{name}: its WCS cannot be read ({one_line(exc, 160)}); check the CTYPE/CUNIT "
                               "cards") from None
    if wcs.naxis != 2 or not wcs.has_celestial:
        warn(f"{name} has no celestial WCS: positions are shown in pixel coordinates", NoCelestialWCSWarning)
        return None
    if not invertible(wcs):
        raise InvalidWCSError(f"{name}: the matrix of its sky axes (CDELT1/2 with PC1_1…PC2_2 or CD1_1…CD2_2) is "
                              "singular, so sky positions have no pixel; fix those cards")
    return wcs


def open_multiband(path: str | os.PathLike, *, max_bytes: int | None = None) -> MultibandImage:
    """Open and validate a multi-band image (one HDU per band, a band-axis cube, or a single image).

    Raises PathNotAllowedError, InvalidFITSError, TruncatedFITSError, ShapeError, InvalidWCSError,
    NonFiniteError, TooLargeError or DecompressionBombError with a message saying what to do.
    """
    from ..config import settings

    path = checked_file(path)
    limit = settings().max_cube_bytes if max_bytes is None else max_bytes
    hdul = _open_fits(path, limit)
    planes, headers, bands = [], [], []
    for header, hdu in _images(hdul, path.name):
        block = _planes(hdu, path)
        for k, plane in enumerate(block):
            planes.append(plane)
            headers.append(header)
            bands.append(_band_name(header, f"band{len(bands) + 1}") if len(block) == 1 else f"band{k + 1}")
    shapes = {p.shape for p in planes}
    if len(shapes) > 1:
        raise ShapeError(f"{path.name}: the bands have different shapes {sorted(shapes)}; resample them onto "
                         "one pixel grid first")
    data = np.stack(planes)
    if min(data.shape[1:]) < 8:
        raise ShapeError(f"{path.name}: a {data.shape[2]}×{data.shape[1]} image is too small to deblend")
    if not np.isfinite(data).any():
        raise NonFiniteError(f"{path.name} has no finite pixels (all NaN or infinite)")
    data[~np.isfinite(data)] = np.nan
    return MultibandImage(path, data, tuple(bands), _celestial(headers[0], path.name),
                          tuple(_number(h, "PSF_FWHM") for h in headers), tuple(_number(h, "SKYSIG") for h in headers),
                          str(headers[0].get("BUNIT", "")))


def _number(header: fits.Header, key: str) -> float | None:
    value = header.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
