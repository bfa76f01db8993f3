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

from ..errors import InvalidFITSError, NoCelestialWCSWarning, NonFiniteError, ShapeError, TooLargeError, warn
from .cube import _open_fits, _reader_for

__all__ = ["MultibandImage", "open_multiband"]


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
    """The HDU's pixels as float32 (band, y, x), BSCALE/BZERO applied; truncation checked first."""
    _reader_for(hdu, path)                      # raises TruncatedFITSError on a short file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = np.asarray(hdu.data, dtype=np.float32)
    data = np.squeeze(data)
    if data.ndim == 2:
        return data[None]
    if data.ndim == 3:
        return data
    raise ShapeError(f"{path.name}: an image HDU has shape {data.shape[::-1]} (FITS order); expected 2-D "
                     "planes or a 3-D cube with the band on the third axis")


def _band_name(header: fits.Header, fallback: str) -> str:
    for key in ("FILTER", "BAND", "EXTNAME"):
        value = str(header.get(key, "")).strip()
        if value and value.upper() not in ("PRIMARY",):
            return value
    return fallback


def _celestial(header: fits.Header, name: str) -> WCS | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(header).celestial
    except Exception as exc:
        raise InvalidFITSError(f"{name}: its WCS cannot be read ({exc}); check the CTYPE/CUNIT cards") from exc
    if wcs.naxis != 2 or not wcs.has_celestial:
        warn(f"{name} has no celestial WCS: positions are shown in pixel coordinates", NoCelestialWCSWarning)
        return None
    return wcs


def open_multiband(path: str | os.PathLike, *, max_bytes: int | None = None) -> MultibandImage:
    """Open and validate a multi-band image (one HDU per band, a band-axis cube, or a single image).

    Raises InvalidFITSError, TruncatedFITSError, ShapeError, NonFiniteError or TooLargeError with a
    message saying what to do.
    """
    from ..config import settings

    path = Path(path)
    if not path.is_file():
        raise InvalidFITSError(f"{path.name}: no such file")
    limit = settings().max_cube_bytes if max_bytes is None else max_bytes
    if path.stat().st_size > limit:
        raise TooLargeError(f"{path.name} is {path.stat().st_size / 2**30:.2f} GB, above the limit of "
                            f"{limit / 2**30:.2f} GB")
    hdul = _open_fits(path)
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
