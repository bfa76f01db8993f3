"""Position–velocity slices of a cube along a line drawn on its image.

The line runs between two pixel positions (x = column, y = row); it is sampled at about one-pixel steps with
linear interpolation (``scipy.ndimage.map_coordinates``, order 1) in every channel, optionally averaged over a
width of pixels across it. Only the box of rows and columns the line touches is read, a chunk of channels at a
time, so a PV slice of a big cube needs little memory.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from scipy import ndimage

from ..errors import ShapeError

__all__ = ["PVSlice", "pv_slice", "uniform_velocity"]

_EDGE = 0.5                # pixel centres at integers: the image covers -0.5 … n - 0.5


@dataclass(frozen=True)
class PVSlice:
    """A PV diagram: ``data[j, k]`` is the cube's value in channel ``channels[j]`` at ``offsets[k]`` along the line.

    Offsets are measured from the line's centre, negative towards ``start``, in arcsec (in pixels for a cube
    without a celestial WCS); velocities are those of the channels, in km/s in ``convention``. ``start_sky`` and
    ``end_sky`` are the endpoints on the sky (None without a celestial WCS).
    """

    data: np.ndarray
    offsets: u.Quantity
    velocities: u.Quantity
    convention: str
    unit: u.UnitBase
    start: tuple[float, float]
    end: tuple[float, float]
    width: int
    start_sky: SkyCoord | None
    end_sky: SkyCoord | None
    channels: range

    @property
    def length(self) -> u.Quantity:
        """Length of the line (arcsec, or pixels without a celestial WCS)."""
        return self.offsets[-1] - self.offsets[0]


def pv_slice(cube, start: tuple[float, float], end: tuple[float, float], *, width: int = 1,
             convention: str | None = None, channels: tuple[int, int] | None = None) -> PVSlice:
    """The PV slice of ``cube`` along the line from ``start`` to ``end`` (each (x, y) in pixels), averaged
    over ``width`` pixels across the line, over channels [lo, hi] (all by default); velocities in ``convention``
    (the cube's own by default)."""
    (x0, y0), (x1, y1) = _checked_line(cube, start, end)
    width = _checked_width(width)
    length = float(np.hypot(x1 - x0, y1 - y0))
    n = max(2, int(round(length)) + 1)
    t = np.linspace(0.0, 1.0, n)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    across = np.arange(width) - (width - 1) / 2            # perpendicular offsets in pixels
    xs = x0 + t[None, :] * (x1 - x0) - across[:, None] * uy
    ys = y0 + t[None, :] * (y1 - y0) + across[:, None] * ux
    rng = _checked_channels(cube, channels)
    data = _sample(cube, xs, ys, rng)
    scale, unit = _scale_along(cube, ux, uy)
    offsets = (t - 0.5) * length * scale * unit
    conv = convention or cube.velocity_convention
    velocities = cube.velocities_in(conv).to(u.km / u.s)[rng.start:rng.stop]
    return PVSlice(data, offsets, velocities, conv, cube.unit,
                   (float(x0), float(y0)), (float(x1), float(y1)), width, *_sky_ends(cube, (x0, y0), (x1, y1)), rng)


def _checked_line(cube, start, end) -> tuple[tuple[float, float], tuple[float, float]]:
    """The endpoints as floats; ShapeError for a non-finite, zero-length or off-image line."""
    ny, nx = cube.shape[1:]
    points = []
    for name, point in (("start", start), ("end", end)):
        x, y = (float(v) for v in point)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ShapeError(f"the PV line's {name} ({x}, {y}) is not a finite pixel position: give two numbers")
        if not (-_EDGE <= x <= nx - 1 + _EDGE and -_EDGE <= y <= ny - 1 + _EDGE):
            raise ShapeError(f"the PV line's {name} (x={x:.1f}, y={y:.1f}) is off the {nx}×{ny}-pixel image "
                             f"(x and y run from -0.5 to {nx - 0.5:g} and {ny - 0.5:g}): put both ends on the image")
        points.append((x, y))
    if np.hypot(points[1][0] - points[0][0], points[1][1] - points[0][1]) < 1.0:
        raise ShapeError("the PV line is shorter than one pixel (both ends on the same spot): draw a longer line")
    return points[0], points[1]


def _checked_width(width) -> int:
    if int(width) != width or not 1 <= int(width) <= 255:
        raise ShapeError(f"the PV width {width} is not a whole number of pixels from 1 to 255")
    return int(width)


def _checked_channels(cube, channels) -> range:
    """The channel range [lo, hi] as a range; ShapeError when it is reversed or leaves the cube."""
    if channels is None:
        return range(cube.n_channels)
    lo, hi = (int(c) for c in channels)
    if not 0 <= lo <= hi < cube.n_channels:
        raise ShapeError(f"PV channels {lo}–{hi} are not a range within 0–{cube.n_channels - 1}: "
                         "give lo ≤ hi inside it")
    return range(lo, hi + 1)


def _sample(cube, xs: np.ndarray, ys: np.ndarray, channels: range) -> np.ndarray:
    """Mean over the width (first axis) of each channel interpolated at (ys, xs); (len(channels), n_points)."""
    ny, nx = cube.shape[1:]
    bx0, bx1 = max(0, int(np.floor(xs.min()))), min(nx, int(np.ceil(xs.max())) + 1)
    by0, by1 = max(0, int(np.floor(ys.min()))), min(ny, int(np.ceil(ys.max())) + 1)
    coords = np.stack([ys - by0, xs - bx0]).reshape(2, -1)
    # half a pixel outside the box edge: the nearest row or column, as the image shows it
    coords[0] = np.clip(coords[0], 0, by1 - by0 - 1)
    coords[1] = np.clip(coords[1], 0, bx1 - bx0 - 1)
    out = np.empty((len(channels), xs.shape[1]), np.float32)
    for chunk, block in cube.blocks(channels, (by0, by1), (bx0, bx1)):
        for k, plane in enumerate(block, start=chunk.start - channels.start):
            values = ndimage.map_coordinates(plane, coords, order=1, mode="nearest", prefilter=False)
            with warnings.catch_warnings():      # a column blank across the whole width stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                out[k] = np.nanmean(values.reshape(xs.shape), axis=0)
    return out


def _scale_along(cube, ux: float, uy: float) -> tuple[float, u.UnitBase]:
    """Angular size of one pixel step along the unit direction (ux, uy), in arcsec (1 pixel without a WCS)."""
    if cube.celestial is None:
        return 1.0, u.pix
    sx, sy = (abs(s) for s in cube.celestial.proj_plane_pixel_scales())
    return float(np.hypot(ux * sx.to_value(u.arcsec), uy * sy.to_value(u.arcsec))), u.arcsec


def _sky_ends(cube, start, end) -> tuple[SkyCoord | None, SkyCoord | None]:
    if cube.celestial is None:
        return None, None
    return cube.celestial.pixel_to_world(*start), cube.celestial.pixel_to_world(*end)


def uniform_velocity(pv: PVSlice) -> tuple[np.ndarray, float, float]:
    """The PV data resampled (linearly, per offset) onto evenly spaced velocities rising with the row, for an
    image whose y axis is velocity: (data, first velocity, step) in km/s. Channels evenly spaced in frequency
    are not evenly spaced in optical velocity, so drawing them as equal rows would misplace the axis."""
    v = pv.velocities.to_value(u.km / u.s)
    order = np.argsort(v)
    v_sorted, data = v[order], pv.data[order]
    grid = np.linspace(v_sorted[0], v_sorted[-1], len(v))
    out = np.empty_like(data)
    for k in range(data.shape[1]):
        out[:, k] = np.interp(grid, v_sorted, data[:, k])
    step = float(grid[1] - grid[0]) if len(grid) > 1 else 1.0
    return out, float(grid[0]), step
