"""Statistics of a region on one plane and over a cube's channels, and its spectrum.

Blank (NaN) pixels are left out of every statistic. A region's cube statistics read only its bounding box, a
block of channels at a time, never the whole cube: :func:`region_channels` keeps the per-channel sums that
the spectrum, the statistics of any one channel and those over any channel range are all made from.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from ...data.cube import Cube
from ...errors import RegionError
from .shapes import Region, RegionMask, region_mask

__all__ = ["RegionStats", "RegionRangeStats", "RegionChannels", "STATISTICS", "plane_stats", "region_channels",
           "region_spectrum", "channel_widths", "flux_scale"]

STATISTICS = ("sum", "mean")


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
    """|Δv| of every channel in km/s: the cube's own central differences, so the line flux agrees with
    :meth:`Cube.integrated_flux_map`."""
    return Cube.channel_widths(np.asarray(velocities_kms, dtype=float))


def region_channels(cube, region: Region | RegionMask, channels: tuple[int, int] | None = None, *,
                    convention: str | None = None) -> RegionChannels:
    """Per-channel sums of ``region`` on ``cube`` over channels [lo, hi] (all by default), read as the
    region's bounding box in blocks of channels of at most 64 MB (never the whole cube).

    ``convention`` is the velocity convention of the channel widths (the cube's own by default).
    """
    mask = region if isinstance(region, RegionMask) else region_mask(region, cube.shape[1:])
    rng = cube.channel_range(channels)
    lo, hi = rng.start, rng.stop - 1
    flat = mask.mask.ravel()
    whole = bool(flat.all())
    parts = []
    for chunk, block in cube.blocks(rng, mask.ys, mask.xs):
        block = block.reshape(len(chunk), -1)
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


