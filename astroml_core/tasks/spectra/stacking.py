"""Stacking a selection of spectra: in the rest frame when every spectrum has a redshift (each shifted to rest
wavelength, resampled onto one rest grid, the median taken where spectra cover it), else in the observed frame.

A median across redshifts in the observed frame smears every line into nothing (issue 34), so the frame is
chosen here and said by the caller on the plot's axis.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Stack", "rest_wavelength", "rest_grid", "stack_spectra", "selection_redshifts"]


@dataclass(frozen=True)
class Stack:
    """A median spectrum and the frame it is in.

    ``frame`` is "rest" or "observed"; ``wavelength`` (Å) is the median's grid in that frame; ``coverage``
    how many spectra reach each grid point (the median is NaN where fewer than ``min_cover``); ``missing_z``
    how many of the stacked spectra had no redshift (they force the observed frame).
    """

    frame: str
    wavelength: np.ndarray
    median: np.ndarray
    coverage: np.ndarray
    missing_z: int


def selection_redshifts(meta: dict, index: np.ndarray) -> np.ndarray:
    """The redshifts of spectra ``index`` from a set's metadata (NaN where the set has none)."""
    if "z" not in meta:
        return np.full(len(index), np.nan)
    return np.asarray(meta["z"], float)[np.asarray(index, np.int64)]


def rest_wavelength(wavelength: np.ndarray, z: float) -> np.ndarray:
    """Observed wavelengths divided by (1 + z): where each pixel was emitted."""
    return np.asarray(wavelength, float) / (1.0 + z)


def rest_grid(wavelength: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A log-spaced rest grid spanning every spectrum's rest coverage, as fine as the observed grid's median step."""
    lam = np.asarray(wavelength, float)
    lo, hi = lam[0] / (1 + np.max(z)), lam[-1] / (1 + np.min(z))
    step = float(np.median(np.diff(np.log(lam))))
    return np.exp(np.arange(np.log(lo), np.log(hi) + step / 2, step))


def _resample(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``y(x)`` linearly interpolated onto ``grid``; NaN outside ``x``'s span and next to a NaN sample."""
    good = np.isfinite(y)
    out = np.interp(grid, x, np.where(good, y, 0.0), left=np.nan, right=np.nan)
    gap = np.interp(grid, x, (~good).astype(float), left=1.0, right=1.0)
    return np.where(gap > 0, np.nan, out)


def stack_spectra(wavelength: np.ndarray, rows: np.ndarray, z: np.ndarray | None, *,
                  min_cover: int = 2) -> Stack:
    """The median of ``rows`` (N, L) sampled at observed ``wavelength`` (L,) Å, with redshifts ``z`` (N,).

    With every redshift known (finite, > -1) each row is moved to its rest wavelength and resampled onto
    :func:`rest_grid`, and the median is taken where at least ``min_cover`` rows (or all of them, when fewer)
    cover a point. Otherwise the median is taken in the observed frame, and ``missing_z`` says how many lacked one.
    """
    rows = np.asarray(rows, float)
    n = len(rows)
    z = np.full(n, np.nan) if z is None else np.asarray(z, float)
    known = np.isfinite(z) & (z > -1)
    need = min(min_cover, n)
    if n == 0 or not known.all():
        cover = np.isfinite(rows).sum(axis=0)
        return Stack("observed", np.asarray(wavelength, float), np.where(cover >= max(need, 1), _median(rows), np.nan),
                     cover, int((~known).sum()))
    grid = rest_grid(wavelength, z)
    shifted = np.array([_resample(rest_wavelength(wavelength, zi), row, grid) for row, zi in zip(rows, z)])
    cover = np.isfinite(shifted).sum(axis=0)
    return Stack("rest", grid, np.where(cover >= need, _median(shifted), np.nan), cover, 0)


def _median(rows: np.ndarray) -> np.ndarray:
    """The NaN-ignoring median down the rows, NaN (quietly) where a column has no data: the coverage says so."""
    if len(rows) == 0:
        return np.full(rows.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(rows, axis=0)
