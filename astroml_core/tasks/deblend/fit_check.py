"""Does the network's picture fit the data? Each source's residual χ² per pixel inside its footprint, against the
largest the network leaves on training-like fields of the same S/N: a galaxy, star or image unlike anything it
learnt from leaves light its predicted images do not explain, whatever the header says."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detection import detection_image
from .errors import band_snr
from .model import _on_image, footprint, summed_image

__all__ = ["residual_chi2", "peak_snr", "source_snr", "FitCheck", "calibrate_fit_check", "SNR_EDGES"]

SNR_EDGES = (0.0, 10.0, 20.0, 50.0, 100.0, 200.0, np.inf)   # bins of a source's matched-filter S/N (all bands)


def residual_chi2(images: np.ndarray, stamps: np.ndarray, origins: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """(source,) mean of ((data − every prediction) / σ)² over the source's photometry footprint
    (:func:`~.model.footprint`) and the bands; NaN for a source with no footprint pixel on the image."""
    shape = images.shape[-2:]
    inv = (1.0 / np.asarray(sigma, np.float64))[:, None, None]
    resid = (np.where(np.isfinite(images), images, np.nan) - summed_image(stamps, origins, shape)) * inv
    out = np.full(len(stamps), np.nan)
    for k, (origin, own) in enumerate(zip(origins, stamps)):
        sy, sx, ty, tx = _on_image(origin, shape)
        inside = footprint(own[:, ty, tx] * inv)
        r = resid[:, sy, sx][:, inside]
        r = r[np.isfinite(r)]
        if r.size:
            out[k] = float(np.mean(r ** 2))
    return out


def peak_snr(images: np.ndarray, sigma) -> np.ndarray:
    """The S/N-weighted band sum Σ_b image_b / σ_b in units of its own noise (√n_bands): a pixel's brightness
    relative to the noise, read off the data (a network's predicted images saturate on sources brighter than
    its training ones)."""
    det, det_sigma = detection_image(images, sigma)
    return det / det_sigma


def source_snr(stamps: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """(source,) matched-filter S/N of each predicted image over all bands: √Σ_b Σ (I_b / σ_b)²."""
    return np.sqrt((band_snr(stamps / np.asarray(sigma, np.float32)[None, :, None, None]) ** 2).sum(axis=1))


@dataclass(frozen=True)
class FitCheck:
    """Per S/N bin, the residual χ² that only ``quantile`` of sources on training-like fields exceed; an image is
    unlike them when more than ``max_share`` of its sources (at least ``min_count``) exceed it."""

    limits: np.ndarray
    quantile: float = 0.99
    max_share: float = 0.1
    min_count: int = 3
    snr_edges: tuple = SNR_EDGES

    def odd(self, chi2: np.ndarray, snr: np.ndarray) -> np.ndarray:
        """Whether each source's residual exceeds its S/N bin's limit."""
        cell = np.clip(np.digitize(snr, self.snr_edges[1:-1]), 0, len(self.limits) - 1)
        return np.isfinite(chi2) & (chi2 > self.limits[cell])

    def unlike_training(self, chi2: np.ndarray, snr: np.ndarray) -> tuple[bool, int]:
        """(does the image as a whole differ from the training fields?, how many sources fit worse than the limit)."""
        n_odd = int(self.odd(chi2, snr).sum())
        return n_odd >= self.min_count and n_odd > self.max_share * max(len(chi2), 1), n_odd

    def to_dict(self) -> dict:
        return dict(limits=np.round(self.limits, 3).tolist(), quantile=self.quantile, max_share=self.max_share,
                    min_count=self.min_count, snr_edges=[e if np.isfinite(e) else "inf" for e in self.snr_edges])

    @classmethod
    def from_dict(cls, d: dict) -> "FitCheck":
        return cls(np.asarray(d["limits"], float), d["quantile"], d["max_share"], d["min_count"],
                   tuple(float(e) for e in d["snr_edges"]))


def calibrate_fit_check(chi2: np.ndarray, snr: np.ndarray, quantile: float = 0.99) -> FitCheck:
    """The limits from sources of training-like fields: the ``quantile`` of χ² per S/N bin with at least 50 sources
    (a sparser bin takes the nearest filled bin's), never below a fainter bin's limit."""
    ok = np.isfinite(chi2)
    chi2, snr = chi2[ok], snr[ok]
    cell = np.clip(np.digitize(snr, SNR_EDGES[1:-1]), 0, len(SNR_EDGES) - 2)
    limits = np.zeros(len(SNR_EDGES) - 1)
    for i in range(len(limits)):
        mine = chi2[cell == i]
        limits[i] = np.quantile(mine, quantile) if mine.size >= 50 else np.nan
    filled = np.flatnonzero(np.isfinite(limits))
    if not filled.size:
        raise ValueError("too few sources to calibrate the fit check (50 per S/N bin)")
    for i in np.flatnonzero(~np.isfinite(limits)):           # a sparse bin takes the nearest filled one's limit
        limits[i] = limits[filled[np.argmin(np.abs(filled - i))]]
    return FitCheck(np.fmax.accumulate(limits), quantile)
