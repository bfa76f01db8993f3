"""What a person looks at to judge one HI source: its moment-0 map over its W20 channels, and its
spectrum summed over a few beams around it."""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from ...constants import C_KMS

__all__ = ["SourceWindow", "source_window", "moment0", "source_spectrum", "C_KMS"]


@dataclass(frozen=True)
class SourceWindow:
    """Channels ``lo``–``hi`` (inclusive) spanning the source's W20, and the pixel box [y0, y1) × [x0, x1)."""

    lo: int
    hi: int
    y0: int
    y1: int
    x0: int
    x1: int
    y: float
    x: float


def source_window(cube, row, radius: int = 16) -> SourceWindow:
    """The W20 channel range and a (2 radius + 1)² pixel box around a catalogue row (SDC2 columns)."""
    nu = row["central_freq"].to_value(u.Hz)
    half = row["w20"].to_value(u.km / u.s) * nu**2 / (C_KMS * cube.rest_frequency.to_value(u.Hz)) / 2
    freqs = cube.frequencies.to_value(u.Hz)
    lo, hi = sorted((int(np.argmin(np.abs(freqs - (nu - half)))), int(np.argmin(np.abs(freqs - (nu + half))))))
    y, x = cube.pixel_of(SkyCoord(row["ra"], row["dec"], frame="icrs"))
    y0, y1 = max(int(round(y)) - radius, 0), min(int(round(y)) + radius + 1, cube.shape[1])
    x0, x1 = max(int(round(x)) - radius, 0), min(int(round(x)) + radius + 1, cube.shape[2])
    return SourceWindow(lo, hi, y0, y1, x0, x1, y, x)


def moment0(cube, w: SourceWindow) -> np.ndarray:
    """Σ S dν over the window's channels (cube unit × Hz, e.g. Jy/beam Hz) on its pixel box."""
    block = cube.subcube((w.lo, w.hi + 1), (w.y0, w.y1), (w.x0, w.x1))
    freqs = cube.frequencies.to_value(u.Hz)
    return np.nansum(block, axis=0) * abs(freqs[1] - freqs[0]) if freqs.size > 1 else block[0]


def source_spectrum(cube, w: SourceWindow, radius_px: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequency MHz, flux density mJy) summed within ``radius_px`` of the source, over the W20 range
    and as much again on each side; Jy/beam is divided by the beam area in pixels."""
    width = w.hi - w.lo + 1
    c0, c1 = max(w.lo - width, 0), min(w.hi + width + 1, cube.n_channels)
    block = np.nan_to_num(cube.subcube((c0, c1), (w.y0, w.y1), (w.x0, w.x1)))
    yy, xx = np.mgrid[w.y0:w.y1, w.x0:w.x1]
    disc = (yy - w.y) ** 2 + (xx - w.x) ** 2 <= radius_px**2
    flux = block[:, disc].sum(axis=1)
    if cube.beam is not None and cube.pixel_scale is not None:   # each channel's own beam when it varies (CASA)
        flux = flux / cube.beam_areas()[c0:c1]
    return cube.frequencies.to_value(u.MHz)[c0:c1], flux * 1e3
