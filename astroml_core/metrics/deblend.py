"""Deblending scores: matching detections to true galaxies, segmentation IoU, detection completeness,
and photometric bias / mean absolute percentage error / σ_MAD per band, binned by blendedness."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable
from scipy.optimize import linear_sum_assignment

__all__ = ["match_sources", "truth_segmentation", "iou", "DeblendScore", "score_deblend", "known_shape_fluxes",
           "galaxy_snr", "BLEND_BINS", "missed_neighbours"]

BLEND_BINS = (0.0, 0.1, 0.3, 0.6, 1.0)


def galaxy_snr(isolated_sigma: np.ndarray) -> np.ndarray:
    """Matched-filter S/N of each noiseless galaxy (galaxy, band, y, x) in sky-σ units, in the detection
    image (Σ_b I_b/σ_b, noise √n_bands)."""
    det = isolated_sigma.sum(axis=1)
    return np.sqrt((det.astype(np.float64) ** 2).sum(axis=(1, 2))) / np.sqrt(isolated_sigma.shape[1])


def match_sources(truth: QTable, found: QTable, max_sep_px: float = 3.0) -> dict[int, int]:
    """One-to-one matches {found row → truth row} minimising total distance, within ``max_sep_px``."""
    if len(truth) == 0 or len(found) == 0:
        return {}
    d = np.hypot(np.subtract.outer(np.asarray(found["x"], float), np.asarray(truth["x"], float)),
                 np.subtract.outer(np.asarray(found["y"], float), np.asarray(truth["y"], float)))
    cost = np.where(d <= max_sep_px, d, 1e6)
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols) if d[r, c] <= max_sep_px}


def missed_neighbours(truth: QTable, found: QTable, select: np.ndarray, radius_px: float,
                      max_sep_px: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Unrecognised blends: for each selected true galaxy, whether a selected galaxy the finder missed lies
    within ``radius_px`` of it (its light then goes to this one); and each missed selected galaxy's
    distance to its nearest other true galaxy (px)."""
    xy = np.column_stack([np.asarray(truth["x"], float), np.asarray(truth["y"], float)])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    select = np.asarray(select, bool)
    missed = select & ~np.isin(np.arange(len(truth)), list(match_sources(truth, found, max_sep_px).values()))
    beside = (d[:, missed] < radius_px).any(axis=1) if missed.any() else np.zeros(len(truth), bool)
    nearest = d[missed].min(axis=1) if len(truth) > 1 else np.full(int(missed.sum()), np.inf)
    return beside[select], nearest


def truth_segmentation(isolated_det: np.ndarray, threshold: float) -> np.ndarray:
    """True segmentation from noiseless (galaxy, y, x) detection-image stamps: where their sum exceeds
    ``threshold``, the galaxy contributing most (label k + 1); 0 elsewhere."""
    total = isolated_det.sum(axis=0)
    labels = np.argmax(isolated_det, axis=0).astype(np.int32) + 1
    return np.where(total > threshold, labels, 0)


def iou(seg_a: np.ndarray, label_a: int, seg_b: np.ndarray, label_b: int) -> float:
    """Intersection over union of segment ``label_a`` of ``seg_a`` and ``label_b`` of ``seg_b``."""
    a, b = seg_a == label_a, seg_b == label_b
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


@dataclass(frozen=True)
class DeblendScore:
    """Per true galaxy: blendedness, found?, IoU (NaN if missed), relative flux error per band (NaN if missed)."""

    blendedness: np.ndarray
    found: np.ndarray
    iou: np.ndarray
    rel_err: dict[str, np.ndarray]

    def table(self, bins=BLEND_BINS, band: str | None = None) -> QTable:
        """Completeness, mean IoU, median bias, MAPE and σ_MAD (flux in ``band``, else all bands pooled)."""
        rows = []
        for lo, hi in zip(bins[:-1], bins[1:]):
            sel = (self.blendedness >= lo) & (self.blendedness < hi if hi < 1 else self.blendedness <= hi)
            rows.append(dict(blend_min=lo, blend_max=hi, n_true=int(sel.sum()),
                             **self.figures(sel, band)))
        return QTable(rows=rows)

    def figures(self, sel: np.ndarray, band: str | None = None) -> dict:
        """Completeness, mean IoU, median bias, MAPE and σ_MAD of the galaxies in ``sel``."""
        got = sel & self.found
        errs = [self.rel_err[band][got]] if band else [e[got] for e in self.rel_err.values()]
        e = np.concatenate(errs) if errs else np.zeros(0)
        e = e[np.isfinite(e)]
        return dict(completeness=float(got.sum() / sel.sum()) if sel.any() else np.nan,
                    mean_iou=float(np.nanmean(self.iou[got])) if np.isfinite(self.iou[got]).any() else np.nan,
                    bias=float(np.median(e)) if e.size else np.nan,
                    mape=float(np.mean(np.abs(e))) if e.size else np.nan,
                    sigma_mad=float(1.4826 * np.median(np.abs(e - np.median(e)))) if e.size else np.nan)

    def summary(self, blended_above: float = 0.1, band: str | None = None) -> dict:
        """The same figures over every galaxy with blendedness above ``blended_above``."""
        return self.figures(self.blendedness > blended_above, band)

    @staticmethod
    def concatenate(scores: list["DeblendScore"]) -> "DeblendScore":
        return DeblendScore(np.concatenate([s.blendedness for s in scores]), np.concatenate([s.found for s in scores]),
                            np.concatenate([s.iou for s in scores]),
                            {b: np.concatenate([s.rel_err[b] for s in scores]) for b in scores[0].rel_err})


def score_deblend(truth: QTable, found: QTable, segmap: np.ndarray, truth_seg: np.ndarray, bands,
                  select: np.ndarray | None = None, max_sep_px: float = 3.0) -> DeblendScore:
    """Score a deblended catalogue + segmentation map against the truth (rows of ``select`` only)."""
    matches = {t: f for f, t in match_sources(truth, found, max_sep_px).items()}
    idx = np.flatnonzero(select if select is not None else np.ones(len(truth), bool))
    found_mask = np.array([k in matches for k in idx], bool)
    ious = np.array([iou(segmap, matches[k] + 1, truth_seg, k + 1) if k in matches else np.nan for k in idx])
    rel = {b: np.array([float(found[f"flux_{b}"][matches[k]] / truth[f"flux_{b}"][k]) - 1 if k in matches else np.nan
                        for k in idx]) for b in bands}
    return DeblendScore(np.asarray(truth["blendedness"], float)[idx], found_mask, ious, rel)


def known_shape_fluxes(isolated: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Fluxes (galaxy, band) from a joint least-squares fit of every galaxy's true noiseless image to the
    noisy bands, amplitudes free: the ideal unbiased estimate that knows every shape and position, so
    its errors are what the noise alone costs on these blends (a method that shrinks towards a prior
    can still do better on average at low S/N)."""
    n, n_bands = isolated.shape[:2]
    out = np.zeros((n, n_bands))
    for b in range(n_bands):
        shapes = isolated[:, b].reshape(n, -1).astype(np.float64)
        normal = shapes @ shapes.T
        amplitude = np.linalg.solve(normal + 1e-12 * np.trace(normal) * np.eye(n),
                                    shapes @ images[b].reshape(-1).astype(np.float64))
        out[:, b] = amplitude * shapes.sum(axis=1)
    return out
