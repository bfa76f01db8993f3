"""Multi-band images for deblending: one FITS image HDU per band, a cube with a band axis, one 2-D image, or
separate files per band on one pixel grid.

Images are small next to cubes (a 4k × 4k × 4-band field is 256 MB), so they are read into memory,
validated (same shape in every band, finite pixels present, a size limit) and carried with their WCS,
band names, flux scale (pixels in nJy when the header calibrates them, :mod:`.flux_scale`) and, when the
header or a variance extension says, PSF FWHM and sky noise. Variance, error, weight, data-quality and context
extensions are not bands (:mod:`.image_hdus`); every assumption and repair is a sentence in ``notes``.
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
from .cube import invertible
from .fitsfile import checked_file, one_line
from .flux_scale import flux_scale
from .image_grid import same_grid
from .image_hdus import Band, read_bands, wavelength_key

__all__ = ["MultibandImage", "open_multiband"]


@dataclass(frozen=True)
class MultibandImage:
    """Pixels (band, y, x) float32 with NaN for blank pixels, band names, celestial WCS (or None), the pixels' unit
    ("nJy" per pixel when the header calibrates every band), ``notes`` (every assumption and repair, one sentence
    each), ``noise``, the per-pixel σ (band, y, x) in ``unit`` from variance/error extensions (NaN where none), and
    ``flux_scale``, the factor per band that took the file's pixel values to ``unit`` (1 where nothing was converted):
    a catalogue in the file's own units (a simulation's truth) is multiplied by it to compare."""

    path: Path
    data: np.ndarray
    bands: tuple[str, ...]
    wcs: WCS | None
    psf_fwhm_arcsec: tuple[float | None, ...]
    sky_sigma: tuple[float | None, ...]
    unit: str
    notes: tuple[str, ...] = ()
    noise: np.ndarray | None = None
    flux_scale: tuple[float, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape[1:]

    @property
    def pixel_arcsec(self) -> float | None:
        if self.wcs is None:
            return None
        return float(np.sqrt(abs(np.linalg.det(self.wcs.pixel_scale_matrix))) * 3600)


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



_SKY_CARDS = ("SKYSIG", "SKYNOISE", "SKYRMS")


def _robust_sigma(plane: np.ndarray) -> float | None:
    """1.4826 × MAD of up to ~250k finite pixels (for telling counts from rates)."""
    finite = plane[np.isfinite(plane)]
    finite = finite[:: max(1, finite.size // 250_000)]
    if finite.size < 16:
        return None
    return float(1.4826 * np.median(np.abs(finite - np.median(finite))))


def _ordered(bands: list[Band]) -> tuple[list[Band], str]:
    """Bands of separate files in wavelength order when every band name says its wavelength, else as given."""
    keys = [wavelength_key(b.name) for b in bands]
    if all(k is not None for k in keys):
        bands = [b for _, b in sorted(zip(keys, bands), key=lambda kb: kb[0])]
        return bands, f"{len(bands)} files combined, bands ordered by wavelength: {', '.join(b.name for b in bands)}."
    return bands, (f"{len(bands)} files combined in the order given ({', '.join(b.name for b in bands)}): not every "
                   "band name says its wavelength.")


def open_multiband(path: str | os.PathLike | list | tuple, *, max_bytes: int | None = None) -> MultibandImage:
    """Open and validate a multi-band image: one HDU per band, a band-axis cube, a single image, or a list of
    files (one or more bands each) on one pixel grid, combined in wavelength order when their band names say it.

    Raises PathNotAllowedError, InvalidFITSError, TruncatedFITSError, ShapeError, InvalidWCSError,
    NonFiniteError, TooLargeError or DecompressionBombError with a message saying what to do.
    """
    from ..config import settings

    paths = [path] if isinstance(path, (str, bytes, os.PathLike)) else list(path)
    if not paths:
        raise ShapeError("no image file given: give one FITS file, or one file per band")
    files = [checked_file(p) for p in paths]
    limit = settings().max_cube_bytes if max_bytes is None else max_bytes
    bands, notes = [], []
    for file in files:
        more, said = read_bands(file, limit)
        bands += more
        notes += said
    if len(files) > 1:
        same_grid([(b.path, b.header, b.plane.shape) for b in bands])
        bands, said = _ordered(bands)
        notes.append(said)
    names = [b.name for b in bands]
    if len(set(names)) < len(names):
        names = [f"{b.name} ({b.path.stem})" if names.count(b.name) > 1 else b.name for b in bands]
    shapes = {b.plane.shape for b in bands}
    name = files[0].name if len(files) == 1 else ", ".join(f.name for f in files)
    if len(shapes) > 1:
        raise ShapeError(f"{name}: the bands have different shapes {sorted(shapes)}; resample them onto "
                         "one pixel grid first")
    data = np.stack([b.plane for b in bands])
    if min(data.shape[1:]) < 8:
        raise ShapeError(f"{name}: a {data.shape[2]}×{data.shape[1]} image is too small to deblend")
    if not np.isfinite(data).any():
        raise NonFiniteError(f"{name} has no finite pixels (all NaN or infinite)")
    data[~np.isfinite(data)] = np.nan
    noise = (np.stack([b.noise if b.noise is not None else np.full(data.shape[1:], np.nan, np.float32) for b in bands])
             if any(b.noise is not None for b in bands) else None)
    unit, factors, said = _calibrate(bands, names, data)
    notes += said
    data *= factors[:, None, None]
    if noise is not None:
        noise *= factors[:, None, None]
    sky = []
    for b, band in enumerate(bands):
        value = next((v for v in (_number(band.header, k) for k in _SKY_CARDS) if v), None)
        if value is not None:
            value *= float(factors[b])
        elif noise is not None and np.isfinite(noise[b]).any():
            value, notes = _sky_from_noise(noise[b], data[b], names[b], unit, notes)
        sky.append(value)
    wcs = _celestial(bands[0].header, files[0].name)
    if wcs is None:
        notes.append(f"{files[0].name}: no celestial WCS (CTYPE1/CTYPE2): positions are in pixels.")
    return MultibandImage(files[0], data, tuple(names), wcs, tuple(_number(b.header, "PSF_FWHM") for b in bands),
                          tuple(sky), unit, tuple(notes), noise, tuple(float(f) for f in factors))


def _sky_from_noise(noise: np.ndarray, plane: np.ndarray, name: str, unit: str, notes: list[str]):
    """(sky σ, notes): the noise map's median σ when it agrees within 2× with the pixels' own scatter (1.4826 MAD),
    else None (the deblender measures it) and a note saying how far apart they are."""
    value, scatter = float(np.nanmedian(noise)), _robust_sigma(plane)
    shown = unit or "raw units"
    if scatter and not 0.5 < value / scatter < 2:
        return None, notes + [f"{name}: the noise extension's median σ ({value:.3g} {shown}) is {value / scatter:.2g}× the "
                              f"pixels' own scatter ({scatter:.3g}, 1.4826 MAD): the sky σ is measured from the pixels; "
                              "the per-pixel σ is kept as given."]
    return value, notes + [f"{name}: sky σ = median per-pixel σ of the noise extension = {value:.3g} {shown}."]


def _calibrate(bands: list[Band], names: list[str], data: np.ndarray) -> tuple[str, np.ndarray, list[str]]:
    """(unit, factor per band, notes): nJy when every band's header calibrates it, else every band in raw units."""
    scales = [flux_scale(b.header, b.primary, band=n, pixel_sigma=_robust_sigma(p))
              for b, n, p in zip(bands, names, data)]
    notes = _merged([s.note for s in scales], names)
    if all(s.calibrated for s in scales):
        return "nJy", np.array([s.factor for s in scales], np.float32), notes
    raw = str(bands[0].header.get("BUNIT", "") or "").strip()
    if any(s.calibrated for s in scales):
        notes.append(f"{', '.join(n for n, s in zip(names, scales) if not s.calibrated)} has no flux calibration, so "
                     f"every band is kept in raw units{f' ({raw})' if raw else ''}.")
    return raw, np.ones(len(bands), np.float32), notes


def _merged(notes: list[str], names: list[str]) -> list[str]:
    """Per-band notes that say the same after '<band>: ' as one note naming every such band."""
    rests: dict[str, list[str]] = {}
    for note, name in zip(notes, names):
        rests.setdefault(note.removeprefix(f"{name}: "), []).append(name)
    return [f"{', '.join(bands)}: {rest}" for rest, bands in rests.items()]


def _number(header: fits.Header, key: str) -> float | None:
    value = header.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
