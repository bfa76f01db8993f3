"""Flux de-boosting of the model's catalogue: the disc fit's line flux corrected for its S/N.

Why: a finder keeps the faint sources that sit on upward noise, so near its limit measured fluxes are
biased high (Eddington bias, "flux boosting"); and a fitted shape follows the noise further, which
raises the fitted amplitude of a source by about k/(2 S/N²) for k free shape parameters. Surveys
publish de-boosted fluxes for this reason (Coppin+2005 for SCUBA sources; WALLABY and SoFiA-based
pipelines correct fluxes with simulations of their own finder). Both effects fade as 1/S/N², so the
correction is

    F = F_fit · exp(−a / S/N^p),

with S/N the disc fit's own (``disc_snr``: fitted flux over its beam-correlated noise), a and p fitted
on the matched detections of simulated tuning cubes at the card's threshold, and S/N clamped at the
lowest the calibration saw (no extrapolation). It is the identity at high S/N and, for a ≥ 0, never
raises a flux. The numbers live in the model card (``flux_deboost``), because the bias depends on
which sources the finder accepts: they hold for that model and threshold only. hi_size is recomputed
from the corrected flux (the isophote of the fitted disc with the corrected mass).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable

__all__ = ["FluxDeboost"]


@dataclass(frozen=True)
class FluxDeboost:
    """F = F_fit · exp(−a / max(S/N, snr_min)^p) on disc-fitted rows; others are left as they are."""

    a: float
    p: float = 2.0
    snr_min: float = 3.0

    def factor(self, snr) -> np.ndarray:
        """Multiplicative correction for fit S/N ``snr`` (NaN, i.e. not fitted: 1)."""
        s = np.asarray(snr, float)
        x = np.maximum(np.where(np.isfinite(s), s, np.inf), self.snr_min)
        return np.exp(-self.a / x**self.p)

    def apply(self, table: QTable, rest_hz: float = 1.42040575177e9) -> QTable:
        """A copy of a disc-fitted catalogue with de-boosted ``line_flux_integral`` and ``hi_size``;
        the fit's flux is kept as ``line_flux_fitted``."""
        from .disc_fit import hi_size_of_disc

        out = table.copy()
        if "disc_snr" not in out.colnames:
            return out
        out["line_flux_fitted"] = out["line_flux_integral"]
        if not len(out):
            return out
        fitted = np.asarray(out["disc_fit"], bool) & np.isfinite(np.asarray(out["disc_snr"], float))
        factor = np.where(fitted, self.factor(out["disc_snr"]), 1.0)
        out["line_flux_integral"] = out["line_flux_integral"] * factor
        if fitted.any():
            size = hi_size_of_disc(out["line_flux_integral"].to_value("Jy Hz")[fitted],
                                   out["central_freq"].to_value("Hz")[fitted],
                                   out["disc_scale"].to_value("arcsec")[fitted], rest_hz)
            hi_size = out["hi_size"].to_value("arcsec").copy()
            hi_size[fitted] = size
            out["hi_size"] = hi_size * out["hi_size"].unit
        return out
