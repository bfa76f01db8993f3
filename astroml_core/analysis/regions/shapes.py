"""Regions on an image — circle, ellipse, box, polygon — in pixel coordinates, and their pixels.

Coordinates are the image's pixels, 0-based, pixel centres at integers, x the column and y the row. A pixel
belongs to a region when its centre does (CARTA's and DS9's rule for statistics).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.wcs import WCS

from ...errors import EmptyRegionError, MissingWCSError, RegionError, RegionOffImageError

__all__ = ["Region", "RegionMask", "SHAPES", "from_regions", "region_mask"]

SHAPES = ("box", "circle", "ellipse", "polygon")
_N_PARAMS = {"circle": 3, "ellipse": 5, "box": 5}


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


