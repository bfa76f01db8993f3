"""Flux uncertainties for the network's photometry. The network predicts noiseless images, so its fluxes
carry no noise estimate of their own; instead each band's error is the 68th percentile of |measured / true − 1|
on simulated tuning fields, looked up by the source's blendedness and its S/N in that band (both read off
the deblended images, so the lookup needs no truth). The card holds the table and its held-out coverage."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable

__all__ = ["BETA_EDGES", "SNR_EDGES", "FluxErrorModel", "band_snr", "calibrate", "add_flux_errors"]

BETA_EDGES = (0.0, 0.1, 0.3, 0.6, 1.0)
SNR_EDGES = (0.0, 5.0, 10.0, 20.0, 50.0, np.inf)
MIN_COUNT = 20          # fluxes a cell needs; sparser cells take their blendedness row's nearest filled cell


def band_snr(stamps_sigma: np.ndarray) -> np.ndarray:
    """(source, band) matched-filter S/N of each deblended image in sky-σ units: √Σ I²."""
    return np.sqrt((stamps_sigma.astype(np.float64) ** 2).sum(axis=(2, 3)))


def _cell(edges, values) -> np.ndarray:
    return np.clip(np.digitize(values, edges[1:-1]), 0, len(edges) - 2)


@dataclass(frozen=True)
class FluxErrorModel:
    """Relative 1σ flux errors by blendedness (rows) and band S/N (columns)."""

    relative_sigma: np.ndarray
    beta_edges: tuple = BETA_EDGES
    snr_edges: tuple = SNR_EDGES

    def relative(self, beta: np.ndarray, snr: np.ndarray) -> np.ndarray:
        """Relative errors for (source, band) S/N, each source's blendedness broadcast over its bands."""
        beta = np.broadcast_to(np.asarray(beta, float)[:, None], np.shape(snr))
        return self.relative_sigma[_cell(self.beta_edges, beta), _cell(self.snr_edges, snr)]

    def to_dict(self) -> dict:
        return dict(beta_edges=list(self.beta_edges), snr_edges=[float(e) if np.isfinite(e) else "inf" for e in self.snr_edges],
                    relative_sigma=np.round(self.relative_sigma, 4).tolist())

    @classmethod
    def from_dict(cls, d: dict) -> "FluxErrorModel":
        return cls(np.asarray(d["relative_sigma"], float), tuple(d["beta_edges"]), tuple(float(e) for e in d["snr_edges"]))


def calibrate(beta: np.ndarray, snr: np.ndarray, rel_err: np.ndarray) -> FluxErrorModel:
    """The 68th percentile of |relative error| per (blendedness, band S/N) cell from matched galaxies'
    (source,) blendedness and (source, band) S/N and errors."""
    beta = np.broadcast_to(np.asarray(beta, float)[:, None], np.shape(snr)).ravel()
    snr, err = np.asarray(snr, float).ravel(), np.abs(np.asarray(rel_err, float)).ravel()
    ok = np.isfinite(err)
    rows, cols = _cell(BETA_EDGES, beta[ok]), _cell(SNR_EDGES, snr[ok])
    table = np.full((len(BETA_EDGES) - 1, len(SNR_EDGES) - 1), np.nan)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            mine = err[ok][(rows == i) & (cols == j)]
            if mine.size >= MIN_COUNT:
                table[i, j] = np.quantile(mine, 0.68)
    overall = float(np.quantile(err[ok], 0.68))
    for i, row in enumerate(table):
        filled = np.flatnonzero(np.isfinite(row))
        for j in np.flatnonzero(~np.isfinite(row)):
            table[i, j] = row[filled[np.argmin(np.abs(filled - j))]] if filled.size else overall
    return FluxErrorModel(table)


def add_flux_errors(table: QTable, stamps_sigma: np.ndarray, bands, errors: FluxErrorModel) -> None:
    """Add ``flux_err_<band>`` (the flux's unit) to a network catalogue with a ``blendedness`` column."""
    relative = errors.relative(np.asarray(table["blendedness"], float), band_snr(stamps_sigma))
    for i, band in enumerate(bands):
        table[f"flux_err_{band}"] = np.abs(np.asarray(table[f"flux_{band}"], float)) * relative[:, i]
