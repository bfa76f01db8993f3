"""What kind of data a FITS file holds, decided from its headers alone (no pixel or row is read).

``kind_of(path)`` answers ``"cube"``, ``"image"``, ``"spectra"`` or ``"lightcone"``, in this order of tests:

- **lightcone**: a 3-D image from our simulator (ORIGIN), with a REDSHIFT table, a ZMIN card, a comoving
  line-of-sight axis (CTYPE3 LOSDIST) or BTYPE dT_b;
- **spectra**: an SDSS spec file (COADD HDU), a DESI coadd/spectra file (B_FLUX, R_FLUX, Z_FLUX or BRZ_FLUX
  HDUs), a table with a FLUX column (ours) or with a flux-density column beside a spectral one (ALFALFA's
  VHELIO/FREQ/FLUXDENS), or any 1-D image (IRAF and IDL wrote spectra with
  CRVAL1/CDELT1 and no CTYPE1; the spectra reader says what it assumed, or why it refuses);
- **cube**: a 3-D or 4-D image with a spectral axis (the same test on CTYPE3/CTYPE4);
- **image**: a 2-D image, or a 3-D stack of up to 16 planes whose third axis is not spectral (no CTYPE3, or
  BAND/FILTER), as the deblender reads.

Anything else with an image goes to the cube reader, whose refusals are the most specific ("5 axes",
"no spectral axis"); a file of tables that are none of the above is refused here (UnsupportedFormatError),
naming its columns. Broken files raise what every reader raises (:func:`~.fitsfile.open_fits_checked`).
"""
from __future__ import annotations

import os

import astropy.units as u
from astropy.io import fits

from ..errors import UnsupportedFormatError
from .fitsfile import open_fits_checked

__all__ = ["KINDS", "kind_of", "is_spectral_axis"]

KINDS = ("cube", "image", "spectra", "lightcone")
_SPECTRAL_CTYPES = ("FREQ", "ENER", "WAVN", "VRAD", "WAVE", "VOPT", "ZOPT", "AWAV", "VELO", "BETA", "FELO", "VELOCITY",
                    "LAMBDA", "FREQUENCY")
_SPECTRAL_TYPES = ("frequency", "length", "speed", "velocity", "energy", "wavenumber")
_BAND_CTYPES = ("", "BAND", "FILTER", "PLANE", "IMAGE")
_MAX_BANDS = 16
_DESI = ("B_FLUX", "R_FLUX", "Z_FLUX", "BRZ_FLUX")
_FLUX_COLUMNS = ("FLUX", "FLUXDENS", "FLUX_DENSITY", "FLUXDENSITY", "SPEC", "SPECTRUM")
_SPECTRAL_COLUMNS = ("WAVE", "WAVELENGTH", "LAMBDA", "LOGLAM", "LOGLAMBDA", "FREQ", "FREQUENCY", "VHELIO",
                     "VELOCITY", "VELO", "VRAD", "VOPT")
_OUR_LIGHTCONE = "astroml_core.sim.lightcone"


def is_spectral_axis(header: fits.Header, axis: int) -> bool:
    """True when axis ``axis`` (1-based) of ``header`` is spectral: a spectral CTYPE (FREQ, VRAD, AWAV, VELO-LSR,
    ...), or a LINEAR / missing CTYPE with a wavelength, frequency, velocity or energy CUNIT."""
    ctype = str(header.get(f"CTYPE{axis}", "") or "").strip().upper()
    if ctype in _SPECTRAL_CTYPES or ctype[:4] in _SPECTRAL_CTYPES[:11] and (len(ctype) == 4 or ctype[4] in "-_ "):
        return True
    if ctype not in ("", "LINEAR"):
        return False
    unit = str(header.get(f"CUNIT{axis}", "") or "").strip()
    if not unit:
        return False
    try:
        return u.Unit(unit).physical_type in _SPECTRAL_TYPES
    except (ValueError, TypeError):
        return False


def _image_hdus(hdul: fits.HDUList) -> list:
    return [h for h in hdul if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
            and h.header.get("NAXIS", 0) > 0 and all(n > 0 for n in h.shape)]


def _is_lightcone(hdul: fits.HDUList, names: list[str], image) -> bool:
    if image is None or image.header.get("NAXIS") != 3:
        return False
    header = image.header
    return (str(header.get("ORIGIN", "")).strip() == _OUR_LIGHTCONE or "REDSHIFT" in names or "ZMIN" in header
            or str(header.get("CTYPE3", "")).strip().upper() == "LOSDIST"
            or str(header.get("BTYPE", "")).strip().lower() == "dt_b")


def _is_spectra_table(hdul: fits.HDUList) -> bool:
    for hdu in hdul:
        if not isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
            continue
        columns = {c.strip().upper() for c in hdu.columns.names}
        if "FLUX" in columns or columns & set(_FLUX_COLUMNS) and columns & set(_SPECTRAL_COLUMNS):
            return True
    return False


def _table_columns(hdul: fits.HDUList) -> list[str]:
    return [c for h in hdul if isinstance(h, (fits.BinTableHDU, fits.TableHDU)) for c in h.columns.names]


def kind_of(path: str | os.PathLike, *, max_bytes: int | None = None) -> str:
    """``"cube"``, ``"image"``, ``"spectra"`` or ``"lightcone"``: which reader opens ``path``, from its headers.

    Raises what :func:`~.fitsfile.open_fits_checked` raises for a file that is not FITS or is broken, and
    UnsupportedFormatError for a file of tables that are no spectra (a catalogue, say).
    """
    from ..config import settings

    hdul = open_fits_checked(path, settings().max_cube_bytes if max_bytes is None else max_bytes)
    with hdul:
        name = os.path.basename(hdul.filename() or os.fspath(path))
        names = [h.name.strip().upper() for h in hdul]
        images = _image_hdus(hdul)
        image = images[0] if images else None
        if _is_lightcone(hdul, names, image):
            return "lightcone"
        if "COADD" in names or any(n in names for n in _DESI) or _is_spectra_table(hdul):
            return "spectra"
        if image is None:
            columns = _table_columns(hdul)
            if columns:
                shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
                raise UnsupportedFormatError(
                    f"{name} holds tables (columns {shown}) but no image and no spectra: astroml reads cubes, images, "
                    "spectra (a FLUX column, an SDSS spec or DESI coadd file, a 1-D spectrum) and lightcones")
            return "cube"                      # nothing at all: the cube reader says "no image data"
        header, ndim = image.header, image.header.get("NAXIS", 0)
        if ndim == 1:                          # a 1-D image is a spectrum or nothing: its reader says which
            return "spectra"
        if ndim == 2:
            return "image"
        if ndim in (3, 4) and any(is_spectral_axis(header, a) for a in range(3, ndim + 1)):
            return "cube"
        ctype3 = str(header.get("CTYPE3", "") or "").strip().upper()
        if ndim == 3 and ctype3 in _BAND_CTYPES and header.get("NAXIS3", 0) <= _MAX_BANDS:
            return "image"
        return "cube"
