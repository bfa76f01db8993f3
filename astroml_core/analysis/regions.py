"""Regions on a cube's image — circle, ellipse, box, polygon — their pixels, statistics and spectra, and
DS9 / CRTF region files (read and written by astropy's ``regions`` package).

Coordinates are the image's pixels, 0-based, pixel centres at integers, x the column and y the row. A pixel
belongs to a region when its centre does (CARTA's and DS9's rule for statistics); blank (NaN) pixels are
left out of every statistic. A region's cube statistics read only its bounding box, a block of channels at
a time, never the whole cube: :func:`region_channels` keeps the per-channel sums that the spectrum, the
statistics of any one channel and those over any channel range are all made from.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.wcs import WCS

from ..errors import EmptyRegionError, MissingWCSError, RegionError, RegionFileError, RegionOffImageError, TooLargeError

__all__ = ["Region", "RegionMask", "RegionStats", "RegionRangeStats", "RegionChannels", "ParsedRegions",
           "SHAPES", "STATISTICS", "MAX_REGION_FILE_CHARS", "MAX_REGIONS", "region_mask", "plane_stats",
           "region_channels", "region_spectrum", "parse_regions", "serialize_regions", "guess_format",
           "from_regions", "channel_widths"]

SHAPES = ("box", "circle", "ellipse", "polygon")
STATISTICS = ("sum", "mean")
FORMATS = ("ds9", "crtf")
MAX_REGION_FILE_CHARS = 512 * 1024   # a region file is text: half a megabyte is thousands of regions
MAX_REGIONS = 200                    # regions one file may bring
_N_PARAMS = {"circle": 3, "ellipse": 5, "box": 5}
_CHUNK_BYTES = 64 * 2**20            # bounding-box voxels read per block


# --- the region ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """A region on the image grid, in pixel coordinates (0-based, pixel centres at integers).

    ``params`` by ``shape``: circle ``(x, y, radius)``; ellipse and box ``(x, y, width, height, angle)``
    with full widths along the shape's own axes and ``angle`` in degrees counter-clockwise from +x (the
    ``regions`` package's pixel convention), kept in [0, 180); polygon ``(x0, y0, x1, y1, ...)``, at least three vertices.
    """

    shape: str
    params: tuple[float, ...]
    name: str = ""

    def __post_init__(self) -> None:
        params = tuple(float(p) for p in self.params)
        if self.shape in ("ellipse", "box") and len(params) == 5 and math.isfinite(params[4]):
            params = params[:4] + (round(params[4], 6) % 180.0,)   # the same shape turned by half a turn
        object.__setattr__(self, "params", params)
        if self.shape not in SHAPES:
            raise RegionError(f"region shape {self.shape!r} is not one of {', '.join(SHAPES)}")
        want = _N_PARAMS.get(self.shape)
        if want is not None and len(params) != want:
            raise RegionError(f"a {self.shape} takes {want} numbers, not {len(params)}")
        if self.shape == "polygon" and (len(params) < 6 or len(params) % 2):
            raise RegionError(f"a polygon takes x, y pairs of at least three vertices, not {len(params)} numbers")
        if not all(math.isfinite(p) for p in params):
            raise RegionError(f"a {self.shape}'s numbers must be finite: {params}")
        if self.shape != "polygon" and min(params[2:4] if self.shape != "circle" else params[2:3]) <= 0:
            raise RegionError(f"a {self.shape} needs a positive size, not {params[2:4]}")

    @classmethod
    def from_drag(cls, shape: str, x0: float, y0: float, x1: float, y1: float, name: str = "") -> "Region":
        """The region drawn by dragging a box from (x0, y0) to (x1, y1): the box itself, or the circle or
        (unrotated) ellipse inscribed in it, as CARTA draws them."""
        cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0), abs(y1 - y0)
        if shape == "circle":
            return cls("circle", (cx, cy, min(w, h) / 2), name)
        if shape in ("box", "ellipse"):
            return cls(shape, (cx, cy, w, h, 0.0), name)
        raise RegionError(f"a {shape} is not drawn by dragging a box: choose box, circle or ellipse")

    @classmethod
    def polygon(cls, xs, ys, name: str = "") -> "Region":
        """A polygon through the vertices (xs[i], ys[i]) (pixel coordinates)."""
        xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
        if xs.size != ys.size:
            raise RegionError(f"a polygon needs as many y as x values ({ys.size} ≠ {xs.size})")
        return cls("polygon", tuple(np.column_stack([xs, ys]).ravel()), name)

    def renamed(self, name: str) -> "Region":
        """The same region under another name."""
        return Region(self.shape, self.params, name)

    @property
    def vertices(self) -> tuple[np.ndarray, np.ndarray]:
        """A polygon's vertices (xs, ys); RegionError for other shapes."""
        if self.shape != "polygon":
            raise RegionError(f"a {self.shape} has no vertices")
        p = np.asarray(self.params).reshape(-1, 2)
        return p[:, 0], p[:, 1]

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y): the centre of a circle, ellipse or box; a polygon's vertex mean (where its label goes)."""
        if self.shape == "polygon":
            xs, ys = self.vertices
            return float(xs.mean()), float(ys.mean())
        return self.params[0], self.params[1]

    def outline(self, n: int = 72) -> tuple[np.ndarray, np.ndarray]:
        """A closed polyline (xs, ys) along the region's edge, for drawing it."""
        if self.shape == "polygon":
            xs, ys = self.vertices
            return np.append(xs, xs[0]), np.append(ys, ys[0])
        if self.shape == "circle":
            x, y, r = self.params
            t = np.linspace(0, 2 * np.pi, n + 1)
            return x + r * np.cos(t), y + r * np.sin(t)
        x, y, w, h, angle = self.params
        if self.shape == "box":
            px, py = np.array([-1, 1, 1, -1, -1]) * w / 2, np.array([-1, -1, 1, 1, -1]) * h / 2
        else:
            t = np.linspace(0, 2 * np.pi, n + 1)
            px, py = w / 2 * np.cos(t), h / 2 * np.sin(t)
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        return x + c * px - s * py, y + s * px + c * py

    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the region's edge, in pixels."""
        xs, ys = self.outline(360)
        return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())

    def to_regions(self, wcs: WCS | None = None):
        """The ``regions`` object of this region: a PixelRegion, or a SkyRegion when a celestial ``wcs`` is
        given; the name goes to its ``text`` meta."""
        from regions import (CirclePixelRegion, EllipsePixelRegion, PixCoord, PolygonPixelRegion,
                             RectanglePixelRegion)

        meta = {"text": self.name} if self.name else {}
        p = self.params
        if self.shape == "circle":
            reg = CirclePixelRegion(PixCoord(p[0], p[1]), p[2], meta=meta)
        elif self.shape == "ellipse":
            reg = EllipsePixelRegion(PixCoord(p[0], p[1]), p[2], p[3], angle=p[4] * u.deg, meta=meta)
        elif self.shape == "box":
            reg = RectanglePixelRegion(PixCoord(p[0], p[1]), p[2], p[3], angle=p[4] * u.deg, meta=meta)
        else:
            reg = PolygonPixelRegion(PixCoord(*self.vertices), meta=meta)
        return reg if wcs is None else reg.to_sky(wcs)

    def contains(self, x, y) -> np.ndarray:
        """Whether each point (x, y) (pixel coordinates, arrays) lies inside the region."""
        from regions import PixCoord

        return np.asarray(self.to_regions().contains(PixCoord(np.asarray(x, float), np.asarray(y, float))), bool)


def from_regions(obj, wcs: WCS | None = None) -> Region:
    """A :class:`Region` from a ``regions`` object (a SkyRegion needs the cube's celestial ``wcs``).

    Raises RegionError for shapes without an area to measure (points, lines, text, annuli) and
    MissingWCSError for a sky region on an image without a celestial WCS.
    """
    from regions import (CirclePixelRegion, EllipsePixelRegion, PixelRegion, PolygonPixelRegion,
                         RectanglePixelRegion, SkyRegion)

    kind = type(obj).__name__.replace("PixelRegion", "").replace("SkyRegion", "").lower()
    if isinstance(obj, SkyRegion):
        if wcs is None:
            raise MissingWCSError(f"a {kind} in sky coordinates needs the cube's celestial WCS, which it lacks: "
                                  "give the region in image (pixel) coordinates")
        obj = obj.to_pixel(wcs)
    if not isinstance(obj, PixelRegion):
        raise RegionError(f"{type(obj).__name__} is not a region")
    name = str(obj.meta.get("text", obj.meta.get("label", "")) or "")
    c = getattr(obj, "center", None)
    if isinstance(obj, CirclePixelRegion):
        return Region("circle", (c.x, c.y, obj.radius), name)
    if isinstance(obj, EllipsePixelRegion):
        return Region("ellipse", (c.x, c.y, obj.width, obj.height, obj.angle.to_value(u.deg)), name)
    if isinstance(obj, RectanglePixelRegion):
        return Region("box", (c.x, c.y, obj.width, obj.height, obj.angle.to_value(u.deg)), name)
    if isinstance(obj, PolygonPixelRegion):
        return Region.polygon(obj.vertices.x, obj.vertices.y, name)
    raise RegionError(f"a {kind} region has no area to measure: only circles, ellipses, boxes and polygons are read")


# --- its pixels ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionMask:
    """The region's pixels within its bounding box: ``mask[y - y0, x - x0]`` for rows ``ys = (y0, y1)``
    and columns ``xs = (x0, x1)`` (half-open) of an image of ``image_shape`` (ny, nx)."""

    mask: np.ndarray
    ys: tuple[int, int]
    xs: tuple[int, int]
    image_shape: tuple[int, int]

    @property
    def n_pixels(self) -> int:
        """Pixels whose centres lie in the region (on the image)."""
        return int(self.mask.sum())

    def full(self) -> np.ndarray:
        """The mask on the whole image grid (ny, nx)."""
        out = np.zeros(self.image_shape, bool)
        out[self.ys[0]:self.ys[1], self.xs[0]:self.xs[1]] = self.mask
        return out

    def values(self, plane: np.ndarray) -> np.ndarray:
        """The region's pixel values of a 2-D plane (or the last two axes of a block), in mask order."""
        return plane[..., self.ys[0]:self.ys[1], self.xs[0]:self.xs[1]][..., self.mask]


def region_mask(region: Region, image_shape: tuple[int, int]) -> RegionMask:
    """The pixels of an image of ``image_shape`` (ny, nx) whose centres lie in ``region``.

    Raises RegionOffImageError when the region misses the image, EmptyRegionError when it covers no pixel
    centre (smaller than a pixel, or between centres).
    """
    ny, nx = int(image_shape[0]), int(image_shape[1])
    xmin, xmax, ymin, ymax = region.bounds()
    if xmax < -0.5 or ymax < -0.5 or xmin > nx - 0.5 or ymin > ny - 0.5:
        raise RegionOffImageError(f"the {region.shape} {_label(region)}spans x {xmin:.1f}…{xmax:.1f}, "
                                  f"y {ymin:.1f}…{ymax:.1f} px, outside the {nx} × {ny} image: draw it on the image")
    x0, x1 = max(0, math.ceil(xmin)), min(nx - 1, math.floor(xmax)) + 1
    y0, y1 = max(0, math.ceil(ymin)), min(ny - 1, math.floor(ymax)) + 1
    mask = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), bool)
    if mask.size:
        yy, xx = np.mgrid[y0:y1, x0:x1]
        mask = region.contains(xx.astype(float), yy.astype(float))
    if not mask.any():
        raise EmptyRegionError(f"the {region.shape} {_label(region)}holds no pixel centre: draw it larger "
                               "(a pixel counts when its centre lies inside)")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))   # the tight box
    mask = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return RegionMask(mask, (y0 + int(rows[0]), y0 + int(rows[-1]) + 1), (x0 + int(cols[0]), x0 + int(cols[-1]) + 1),
                      (ny, nx))


def _label(region: Region) -> str:
    return f"'{region.name}' " if region.name else ""


# --- statistics ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionStats:
    """A region's statistics on one plane, blank pixels left out; NaN where no pixel is finite.

    ``sum``, ``mean``, ``rms`` (root mean square, √⟨S²⟩, as CARTA's RMS) and ``max`` are in ``unit``;
    ``n_pixels`` counts the finite pixels used; ``area_beams`` is the region's pixels over the beam area in
    pixels and ``flux`` = sum / beam area in Jy (both NaN without a beam, ``flux`` also when the unit is
    not a flux density per beam).
    """

    n_pixels: int
    sum: float
    mean: float
    rms: float
    max: float
    area_beams: float
    flux: float
    unit: u.UnitBase = u.one


def flux_scale(unit: u.UnitBase) -> float | None:
    """Factor from ``unit`` × beam to Jy (1 for Jy/beam, 1e-3 for mJy/beam), None when ``unit`` is not a
    flux density per beam."""
    per_beam = u.Unit(unit) * u.beam
    if per_beam.physical_type != "spectral flux density":
        return None
    return float(per_beam.to(u.Jy))


def plane_stats(plane: np.ndarray, region: Region | RegionMask, *, unit: u.UnitBase = u.one,
                beam_area: float | None = None) -> RegionStats:
    """Statistics of ``region`` on a 2-D ``plane`` in ``unit``; ``beam_area`` is the beam's solid angle in
    pixels (for the area in beams and, with a per-beam unit, the flux in Jy)."""
    plane = np.asarray(plane)
    mask = region if isinstance(region, RegionMask) else region_mask(region, plane.shape)
    return _stats_from_sums(*_sums(mask.values(plane)[None]), n_region=mask.n_pixels, unit=unit,
                            beam_area=beam_area, index=0)


def _sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(finite count, sum, sum of squares, max) along the last axis of (k, n) values; sums in float64."""
    k, n = values.shape
    if n == 0:
        return np.zeros(k, int), np.zeros(k), np.zeros(k), np.full(k, -np.inf)
    finite = np.isfinite(values)
    if finite.all():                       # the usual case: no masking copy
        counts, clean, peak = np.full(k, n), values, values.max(axis=-1)
    else:
        counts, clean = finite.sum(axis=-1), np.where(finite, values, 0)
        peak = np.where(finite, values, -np.inf).max(axis=-1)
    total = clean.sum(axis=-1, dtype=np.float64)
    sumsq = np.einsum("ij,ij->i", clean, clean, dtype=np.float64)
    return counts, total, sumsq, peak.astype(np.float64)


def _stats_from_sums(n, total, sumsq, peak, *, n_region: int, unit, beam_area, index: int) -> RegionStats:
    """RegionStats of element ``index`` of per-channel sums."""
    k = int(n[index])
    scale = flux_scale(unit) if beam_area else None
    if k == 0:
        mean = rms = top = s = np.nan
    else:
        s, mean, rms, top = float(total[index]), float(total[index] / k), float(np.sqrt(sumsq[index] / k)), \
            float(peak[index])
    area = n_region / beam_area if beam_area else np.nan
    flux = s / beam_area * scale if scale is not None and k else np.nan
    return RegionStats(k, s, mean, rms, top, area, flux, u.Unit(unit))


@dataclass(frozen=True)
class RegionRangeStats:
    """A region's statistics over the voxels of channels ``channels`` = (lo, hi), inclusive.

    ``sum``, ``mean``, ``rms``, ``max`` over every finite voxel, in ``unit``; ``n_voxels`` counts them;
    ``flux_integral`` = Σ_c flux_c · |Δv_c| in Jy km/s (the line flux; NaN without a beam or a per-beam
    unit), with the channel widths in the velocity convention the channels were read with.
    """

    channels: tuple[int, int]
    n_voxels: int
    sum: float
    mean: float
    rms: float
    max: float
    area_beams: float
    flux_integral: float
    unit: u.UnitBase = u.one


@dataclass(frozen=True)
class RegionChannels:
    """Per-channel sums of a region over channels ``start`` … ``stop - 1``: the counts of finite pixels
    ``n``, ``sum``, ``sumsq`` and ``max`` (arrays, one value per channel), the region's area ``n_region``
    in pixels, ``beam_areas`` (pixels, per channel, or None), channel ``widths`` |Δv| in km/s, ``unit``."""

    start: int
    stop: int
    n_region: int
    n: np.ndarray
    sum: np.ndarray
    sumsq: np.ndarray
    max: np.ndarray
    widths: np.ndarray
    beam_areas: np.ndarray | None
    unit: u.UnitBase = field(default=u.one)

    def _index(self, channel: int) -> int:
        c = int(channel)
        if not self.start <= c < self.stop:
            raise RegionError(f"channel {c} is outside the channels read ({self.start}…{self.stop - 1})")
        return c - self.start

    def spectrum(self, statistic: str = "sum") -> np.ndarray:
        """The region's spectrum: ``'sum'`` or ``'mean'`` of its finite pixels per channel (NaN where none)."""
        if statistic not in STATISTICS:
            raise RegionError(f"a region spectrum is the {' or '.join(STATISTICS)} of its pixels, not {statistic!r}")
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.sum / self.n if statistic == "mean" else self.sum.copy()
        out[self.n == 0] = np.nan
        return out

    def flux(self) -> np.ndarray:
        """Flux density per channel, Σ S / beam area, in Jy (NaN without a beam or a per-beam unit)."""
        scale = flux_scale(self.unit)
        if scale is None or self.beam_areas is None:
            return np.full(self.n.shape, np.nan)
        out = self.sum / self.beam_areas * scale
        out[self.n == 0] = np.nan
        return out

    def stats(self, channel: int) -> RegionStats:
        """The region's statistics on one channel (absolute channel number)."""
        i = self._index(channel)
        beam = float(self.beam_areas[i]) if self.beam_areas is not None else None
        return _stats_from_sums(self.n, self.sum, self.sumsq, self.max, n_region=self.n_region, unit=self.unit,
                                beam_area=beam, index=i)

    def over(self, lo: int, hi: int) -> RegionRangeStats:
        """The region's statistics over channels lo … hi (inclusive, absolute numbers), and its line flux."""
        lo, hi = sorted((int(lo), int(hi)))
        i, j = self._index(lo), self._index(hi) + 1
        k = int(self.n[i:j].sum())
        total = float(self.sum[i:j].sum()) if k else np.nan
        mean = total / k if k else np.nan
        rms = float(np.sqrt(self.sumsq[i:j].sum() / k)) if k else np.nan
        top = float(self.max[i:j].max()) if k else np.nan
        flux = self.flux()[i:j]
        finite = np.isfinite(flux)
        integral = float((flux[finite] * self.widths[i:j][finite]).sum()) if finite.any() else np.nan
        area = self.n_region / float(np.median(self.beam_areas[i:j])) if self.beam_areas is not None else np.nan
        return RegionRangeStats((lo, hi), k, total, mean, rms, top, area, integral, self.unit)


def channel_widths(velocities_kms: np.ndarray) -> np.ndarray:
    """|Δv| of every channel in km/s, from the channel centres (the same central differences as
    :meth:`Cube.integrated_flux_map`, so the two line fluxes agree)."""
    v = np.asarray(velocities_kms, dtype=float)
    return np.abs(np.gradient(v)) if v.size > 1 else np.ones(v.size)


def region_channels(cube, region: Region | RegionMask, channels: tuple[int, int] | None = None, *,
                    convention: str | None = None) -> RegionChannels:
    """Per-channel sums of ``region`` on ``cube`` over channels [lo, hi] (all by default), read as the
    region's bounding box in blocks of channels of at most 64 MB (never the whole cube).

    ``convention`` is the velocity convention of the channel widths (the cube's own by default).
    """
    mask = region if isinstance(region, RegionMask) else region_mask(region, cube.shape[1:])
    lo, hi = (0, cube.n_channels - 1) if channels is None else sorted((int(channels[0]), int(channels[1])))
    lo, hi = max(0, lo), min(cube.n_channels - 1, hi)
    (y0, y1), (x0, x1) = mask.ys, mask.xs
    per_block = max(1, _CHUNK_BYTES // (4 * (y1 - y0) * (x1 - x0)))
    flat = mask.mask.ravel()
    whole = bool(flat.all())
    parts = []
    for c0 in range(lo, hi + 1, per_block):
        c1 = min(hi + 1, c0 + per_block)
        block = cube.subcube((c0, c1), (y0, y1), (x0, x1)).reshape(c1 - c0, -1)
        parts.append(_sums(block if whole else np.compress(flat, block, axis=1)))
    n, total, sumsq, peak = (np.concatenate(p) for p in zip(*parts))
    widths = channel_widths(cube.velocities_in(convention).to_value(u.km / u.s))
    return RegionChannels(lo, hi + 1, mask.n_pixels, n, total, sumsq, peak, widths[lo:hi + 1],
                          _beam_areas(cube, lo, hi + 1), cube.unit)


def _beam_areas(cube, start: int, stop: int) -> np.ndarray | None:
    """Beam areas in pixels of channels start … stop - 1 (None without a beam or celestial WCS); one beam
    is computed once, not per channel (astropy quantities cost ~0.5 ms each)."""
    if cube.beam is None or cube.pixel_scale is None:
        return None
    if cube.beams is None:
        return np.full(stop - start, cube.beam.area_pixels(cube.pixel_scale))
    return np.asarray(cube.beam_areas()[start:stop], float)


def region_spectrum(cube, region: Region | RegionMask, statistic: str = "sum",
                    channels: tuple[int, int] | None = None) -> np.ndarray:
    """The region's spectrum on ``cube``: the ``'sum'`` or ``'mean'`` of its finite pixels in every channel
    of [lo, hi] (all by default), in the cube's unit."""
    if statistic not in STATISTICS:
        raise RegionError(f"a region spectrum is the {' or '.join(STATISTICS)} of its pixels, not {statistic!r}")
    return region_channels(cube, region, channels).spectrum(statistic)


# --- files -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedRegions:
    """Regions read from a file, and one sentence per line or shape that was skipped (and why)."""

    regions: tuple[Region, ...]
    skipped: tuple[str, ...] = ()
    format: str = "ds9"


def guess_format(text: str, filename: str = "") -> str:
    """'crtf' for a CASA region file (``#CRTF`` first line or a ``.crtf`` name), else 'ds9'."""
    if filename.lower().endswith(".crtf") or text.lstrip().upper().startswith("#CRTF"):
        return "crtf"
    return "ds9"


def _repaired(text: str, fmt: str) -> str:
    """Defaults the files leave implicit, made explicit for the ``regions`` reader: DS9 shapes before any
    coordinate-system line are in image pixels (DS9's own default, physical, is the image here), and CRTF
    sky positions without a ``coord=`` are J2000 (CASA's default; ``regions`` would read them as pixels)."""
    if fmt == "ds9":
        return "image\n" + text
    if "coord=" not in text.lower() and not re.search(r"\d\s*pix\b", text, re.IGNORECASE):
        lines = text.splitlines()
        head = 1 if lines and lines[0].strip().upper().startswith("#CRTF") else 0
        return "\n".join(lines[:head] + ["global coord=J2000"] + lines[head:]) + "\n"
    return text


def parse_regions(text: str, *, format: str | None = None, wcs: WCS | None = None,
                  filename: str = "") -> ParsedRegions:
    """Read DS9 or CRTF region text (``format`` 'ds9' or 'crtf'; guessed from the text and ``filename``
    when None) into pixel regions, sky ones through the cube's celestial ``wcs``.

    Shapes without an area (points, lines, text) and sky shapes without a ``wcs`` are skipped and said in
    :attr:`ParsedRegions.skipped`. Raises TooLargeError over :data:`MAX_REGION_FILE_CHARS` or
    :data:`MAX_REGIONS`, RegionFileError when the text cannot be read or holds no usable region.
    """
    from regions import Regions

    if len(text) > MAX_REGION_FILE_CHARS:
        raise TooLargeError(f"the region file has {len(text):,} characters, over the limit of "
                            f"{MAX_REGION_FILE_CHARS:,}: split it, or keep the regions you need")
    fmt = (format or guess_format(text, filename)).lower()
    if fmt not in FORMATS:
        raise RegionFileError(f"region format {fmt!r} is not one of {', '.join(FORMATS)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = Regions.parse(_repaired(text, fmt), format=fmt)
        except Exception as exc:    # the regions parsers raise ValueError, unit and index errors on bad text
            raise RegionFileError(f"this is not a readable {fmt.upper()} region file ({_flat(exc)}); "
                                  f"write it as {_EXAMPLE[fmt]}") from None
    if len(found) > MAX_REGIONS:
        raise TooLargeError(f"the file holds {len(found)} regions, over the limit of {MAX_REGIONS}: keep the ones "
                            "you need")
    skipped = [_flat(w.message) for w in caught if "region" in str(w.message).lower()]
    out = []
    for obj in found:
        try:
            region = from_regions(obj, wcs)
        except (RegionError, MissingWCSError) as exc:
            skipped.append(str(exc))
            continue
        out.append(region)
    if not out:
        why = "; ".join(skipped[:3]) or "no region line"
        raise RegionFileError(f"no circle, ellipse, box or polygon could be read from this {fmt.upper()} file "
                              f"({why}); write regions as {_EXAMPLE[fmt]}")
    return ParsedRegions(tuple(out), tuple(skipped), fmt)


_EXAMPLE = {"ds9": "'fk5' then 'circle(180.0,-30.0,20\")' or 'image' then 'circle(100,120,8)'",
            "crtf": "'#CRTFv0' then 'circle[[180deg, -30deg], 20arcsec]'"}


def serialize_regions(regions: list[Region] | tuple[Region, ...], format: str = "ds9", *,
                      wcs: WCS | None = None) -> str:
    """DS9 or CRTF text of ``regions``: in sky coordinates through the cube's celestial ``wcs`` (ICRS for
    DS9, J2000 for CRTF), or in image pixels (DS9 only) without one.

    Raises RegionError for no regions, MissingWCSError for CRTF without a celestial WCS.
    """
    from regions import Regions

    fmt = format.lower()
    if fmt not in FORMATS:
        raise RegionFileError(f"region format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not regions:
        raise RegionError("there are no regions to write: draw or import one first")
    if fmt == "crtf" and wcs is None:
        raise MissingWCSError("CRTF region files hold sky coordinates, and this cube has no celestial WCS: "
                              "export DS9 regions (image pixels) instead")
    objs = Regions([r.to_regions(wcs) for r in regions])
    if fmt == "crtf":
        return objs.serialize(format="crtf", fmt=".8f")
    return objs.serialize(format="ds9", precision=8)


def _flat(exc: object) -> str:
    """A message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
