"""Contour lines of a 2-D plane, as radio astronomers draw them over a cube's channel or moment map.

Levels come from a spec: multiples of the plane's robust noise σ ("3,5,10,20" → 3σ, 5σ, …) or values in the
plane's unit; negative levels are drawn dashed. Lines come from ``contourpy`` in pixel coordinates (x = column,
y = row, pixel centres at integers), one :class:`LevelLines` per level, as plain lists a plot can take. A plane
may also come from another FITS file on the cube's own pixel grid (:func:`plane_from_fits`); nothing is
reprojected.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import astropy.units as u
import contourpy
import numpy as np

from ..errors import InvalidLevelsError, NonFiniteError, ShapeError

__all__ = ["ContourLevels", "LevelLines", "parse_levels", "robust_sigma", "levels_from_spec", "contour_lines",
           "plane_from_fits"]

MAX_LEVELS = 40
_SAMPLE = 250_000          # pixels used for the noise estimate of a big plane


@dataclass(frozen=True)
class ContourLevels:
    """Contour levels in the plane's unit, whether each is drawn dashed (negative), and the σ they were
    built from (None for levels given in data units)."""

    values: tuple[float, ...]
    dashed: tuple[bool, ...]
    sigma: float | None
    unit: u.UnitBase = u.one
    multiples: tuple[float, ...] | None = None


@dataclass(frozen=True)
class LevelLines:
    """Every line of one contour level: ``xs[k]``, ``ys[k]`` are the pixel coordinates of line k."""

    level: float
    dashed: bool
    xs: list[list[float]]
    ys: list[list[float]]

    @property
    def n_lines(self) -> int:
        return len(self.xs)


def parse_levels(text: str) -> tuple[float, ...]:
    """Numbers from a spec like "3, 5, 10, 20" (commas or spaces), sorted and without repeats."""
    parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
    if not parts:
        raise InvalidLevelsError("no contour levels given: type numbers such as 3,5,10,20")
    try:
        values = sorted({float(p) for p in parts})
    except ValueError:
        bad = next(p for p in parts if not _is_number(p))
        raise InvalidLevelsError(f"contour level '{bad[:40]}' is not a number: type numbers such as "
                                 "3,5,10,20") from None
    if not all(np.isfinite(values)):
        raise InvalidLevelsError("contour levels must be finite numbers (no inf or nan)")
    if len(values) > MAX_LEVELS:
        raise InvalidLevelsError(f"{len(values)} contour levels given; at most {MAX_LEVELS} are drawn")
    return tuple(values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def robust_sigma(plane: np.ndarray) -> float:
    """Noise σ of a plane as 1.4826 × the median absolute deviation of its finite pixels (sources barely move it)."""
    finite = np.asarray(plane, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        raise NonFiniteError("the plane holds no finite value, so it has no noise level to set σ contours from")
    finite = finite[:: max(1, finite.size // _SAMPLE)]
    sigma = 1.4826 * float(np.median(np.abs(finite - np.median(finite))))
    if not sigma > 0:
        raise NonFiniteError("the plane's noise is zero (more than half its pixels hold one value), so σ levels are "
                             "undefined: give the levels in data units")
    return sigma


def levels_from_spec(spec: str | tuple[float, ...], plane: np.ndarray, mode: str = "sigma",
                     unit: u.UnitBase = u.one) -> ContourLevels:
    """Levels from ``spec``: multiples of the plane's robust σ (``mode="sigma"``) or values in its unit
    (``mode="data"``); negative levels dashed."""
    if mode not in ("sigma", "data"):
        raise InvalidLevelsError(f"contour level mode {mode!r} is not 'sigma' or 'data'")
    multiples = parse_levels(spec) if isinstance(spec, str) else tuple(sorted(set(map(float, spec))))
    if mode == "data":
        return ContourLevels(multiples, tuple(v < 0 for v in multiples), None, unit)
    sigma = robust_sigma(plane)
    values = tuple(m * sigma for m in multiples)
    return ContourLevels(values, tuple(m < 0 for m in multiples), sigma, unit, multiples)


def contour_lines(plane: np.ndarray, levels: ContourLevels) -> list[LevelLines]:
    """The lines of every level, in pixel coordinates; blank (NaN) pixels are left out, not contoured."""
    z = np.asarray(plane, dtype=np.float64)
    if z.ndim != 2:
        raise ShapeError(f"contours need a 2-D plane, not an array of shape {z.shape}")
    if min(z.shape) < 2:
        raise ShapeError(f"a plane of {z.shape[1]}×{z.shape[0]} pixels is too small to contour (at least 2×2)")
    gen = contourpy.contour_generator(z=np.ma.masked_invalid(z), name="serial",
                                      line_type=contourpy.LineType.Separate)
    out = []
    for level, dashed in zip(levels.values, levels.dashed):
        pieces = [p for p in gen.lines(level) if len(p) >= 2]
        out.append(LevelLines(float(level), bool(dashed), [p[:, 0].tolist() for p in pieces],
                              [p[:, 1].tolist() for p in pieces]))
    return out


def plane_from_fits(path: str | os.PathLike, cube) -> tuple[np.ndarray, u.UnitBase]:
    """(image, its BUNIT) of the 2-D image in a FITS file (a moment map, an image at another wavelength) when it
    lies on ``cube``'s pixel grid: the same size and, with a WCS, the same sky positions per pixel. Nothing is
    reprojected."""
    from ..config import settings
    from ..data.cube import _image_hdu, _open_fits, _reader_for
    from ..data.fitsfile import checked_file
    from ..data.header_repair import brightness_unit
    from ..data.image_grid import same_grid

    path = checked_file(path)
    with _open_fits(path, settings().max_cube_bytes) as hdul:
        hdu = _image_hdu(hdul, path.name)
        reader = _reader_for(hdu, path)
        shape = reader.shape
        if any(n > 1 for n in shape[:-2]):
            raise ShapeError(f"{path.name} holds {int(np.prod(shape[:-2]))} planes (shape {shape[::-1]} in FITS "
                             "order); contours come from one 2-D image: make a moment map or cut one plane first")
        ny, nx = shape[-2:]
        if (ny, nx) != tuple(cube.shape[1:]):
            raise ShapeError(f"{path.name} is {nx}×{ny} pixels and the cube {cube.shape[2]}×{cube.shape[1]}: "
                             "contours are drawn pixel for pixel on the cube's grid and nothing is reprojected "
                             "here; resample the image onto the cube's grid first (e.g. with reproject)")
        try:
            same_grid([(cube.path, cube.header, (ny, nx)), (path, hdu.header, (ny, nx))])
        except ShapeError as exc:
            raise ShapeError(f"{exc} — contours are drawn pixel for pixel on the cube's grid; this viewer does not "
                             "reproject") from None
        plane = reader.block([tuple(0 for _ in shape[:-2])])[0]
        unit = brightness_unit(hdu.header, [])
    if not np.isfinite(plane).any():
        raise NonFiniteError(f"{path.name}: every pixel is NaN, blank or infinite; nothing to contour")
    return plane, unit
