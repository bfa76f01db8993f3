"""Flux de-boosting of the model's catalogue: the disc fit's line flux corrected from the catalogue's own
measurements.

Why: a finder keeps the faint sources that sit on upward noise, so near its limit measured fluxes are
biased high (Eddington bias, "flux boosting"); and a fitted shape follows the noise further, which
raises the fitted amplitude of a source by about k/(2 S/N²) for k free shape parameters. Surveys
publish de-boosted fluxes for this reason (Coppin+2005 for SCUBA sources; WALLABY and SoFiA-based
pipelines correct fluxes with simulations of their own finder). The correction is linear in four
measurements of each source,

    ln(F / F_fit) = c₀ + c₁/S + c₂/S² + c₃ ln n_vox + c₄ ln S_sum,

with S the disc fit's S/N (``disc_snr``, clamped at the lowest the calibration saw: no extrapolation),
n_vox the size of the finder's mask and S_sum the S/N of the flux summed over that mask (``snr``). The
1/S terms are the boosting's own form; the mask's size and S/N tell, at a given fit S/N, how much of
the fitted flux is noise that the free shape took in (on 647 matched detections of 192 tuning cubes,
cross-validated by halves, they took the median |flux error| from 10.6% (1/S² alone) to 9.8%, mostly
at S/N < 8).
The coefficients are fitted by least absolute deviations on the matched detections of simulated tuning
cubes at the card's threshold and live in the model card (``flux_deboost``): the bias depends on which
sources the finder accepts, so they hold for that model and threshold only. hi_size is recomputed from
the corrected flux (the isophote of the fitted disc with the corrected mass).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable

from ...constants import HI_REST_HZ

__all__ = ["FluxDeboost", "FEATURES", "deboost_features", "disc_fitted"]

FEATURES = ("1/S", "1/S²", "ln n_vox", "ln S_sum")


def disc_fitted(table: QTable) -> np.ndarray:
    """Which rows the disc fit refined (the only rows de-boosting touches)."""
    return np.asarray(table["disc_fit"], bool) & np.isfinite(np.asarray(table["disc_snr"], float))


def deboost_features(table: QTable, snr_min: float) -> np.ndarray:
    """(rows, 4) array of :data:`FEATURES` for a disc-fitted catalogue (NaN rows where not fitted)."""
    s = np.asarray(table["disc_snr"], float)
    s = np.where(np.isfinite(s), np.maximum(s, snr_min), np.nan)
    s_sum = np.maximum(np.asarray(table["snr"], float), 1.0)
    return np.column_stack([1 / s, 1 / s**2, np.log(np.maximum(np.asarray(table["n_vox"], float), 1.0)),
                            np.log(s_sum)])


@dataclass(frozen=True)
class FluxDeboost:
    """F = F_fit · exp(c₀ + Σ c_k x_k) on disc-fitted rows (x: :data:`FEATURES`); others are left as they are."""

    coef: tuple[float, ...]      # c₀, then one per feature
    snr_min: float = 3.0

    def factor(self, table: QTable) -> np.ndarray:
        """Multiplicative correction of each row (1 where the disc was not fitted)."""
        x = deboost_features(table, self.snr_min)
        ln_f = self.coef[0] + x @ np.asarray(self.coef[1:], float)
        fitted = disc_fitted(table) & np.isfinite(ln_f)
        return np.where(fitted, np.exp(np.where(fitted, ln_f, 0.0)), 1.0)

    def apply(self, table: QTable, rest_hz: float = HI_REST_HZ) -> QTable:
        """A copy of a disc-fitted catalogue with de-boosted ``line_flux_integral`` and ``hi_size``;
        the fit's flux is kept as ``line_flux_fitted``."""
        from .disc_fit import hi_size_of_disc

        out = table.copy()
        if "disc_snr" not in out.colnames:
            return out
        out["line_flux_fitted"] = out["line_flux_integral"]
        if not len(out):
            return out
        factor = self.factor(out)
        fitted = disc_fitted(out)
        out["line_flux_integral"] = out["line_flux_integral"] * factor
        if fitted.any():
            size = hi_size_of_disc(out["line_flux_integral"].to_value("Jy Hz")[fitted],
                                   out["central_freq"].to_value("Hz")[fitted],
                                   out["disc_scale"].to_value("arcsec")[fitted], rest_hz)
            hi_size = out["hi_size"].to_value("arcsec").copy()
            hi_size[fitted] = size
            out["hi_size"] = hi_size * out["hi_size"].unit
        return out
