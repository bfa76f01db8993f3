"""The model finder's first pass: smooth-and-clip candidates of both signs, their statistics, and the
network's score of each one from a small cutout around it.

Positive candidates may be sources; negative ones (the same search on the negated cube) are noise by
construction and calibrate the reliability of the positive ones on the cube itself (:mod:`.reliability`).
Both signs go through exactly the same steps, so whatever a cube's noise does to one it does to the other.
The network sees only cutouts (a few % of the voxels), which keeps the finder near SoFiA-2's speed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ...progress import Progress, quiet
from .linker import link, relabel

__all__ = ["Candidates", "find_candidates", "network_scores", "CUTOUT"]

CUTOUT = (48, 40, 40)      # channels, y, x seen by the network around each candidate (multiples of 8)


@dataclass
class Candidates:
    """Linked candidates of one sign: label cube (1..n) and per-candidate statistics in noise units."""

    sign: float
    labels: np.ndarray | None     # None once no longer needed (noise candidates after scoring)
    peak: np.ndarray         # highest sign × S/N voxel
    total: np.ndarray        # Σ sign × S/N over the mask
    count: np.ndarray        # voxels
    centre: np.ndarray       # (n, 3) voxel of the peak (channel, y, x)
    beam_area_px: float

    @property
    def n(self) -> int:
        return len(self.peak)

    @property
    def snr(self) -> np.ndarray:
        """Integrated S/N: the mask's sum over its noise, the noise being correlated over a beam."""
        return self.total / np.sqrt(np.maximum(self.count, 1) * self.beam_area_px)

    def keep(self, idx: np.ndarray) -> "Candidates":
        """Only the candidates at ``idx`` (0-based), relabelled 1..len(idx) in that order."""
        labels, _ = relabel(self.labels, list(np.asarray(idx, int) + 1))
        return Candidates(self.sign, labels, self.peak[idx], self.total[idx], self.count[idx], self.centre[idx],
                          self.beam_area_px)


def _stats(norm: np.ndarray, labels: np.ndarray, n: int, sign: float):
    """(peak, total, count, peak voxel) of each label, reading only labelled voxels."""
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    values = sign * norm.ravel()[flat]
    order = np.lexsort((-values, lab))
    first = np.searchsorted(lab[order], np.arange(1, n + 1))
    top = order[np.minimum(first, max(len(order) - 1, 0))] if len(order) else np.zeros(0, int)
    peak = values[top] if n else np.zeros(0)
    total = np.bincount(lab, weights=values, minlength=n + 1)[1:]
    count = np.bincount(lab, minlength=n + 1)[1:]
    centre = np.column_stack(np.unravel_index(flat[top], labels.shape)) if n else np.zeros((0, 3), int)
    return peak.astype(float), total, count, centre


def find_candidates(norm: np.ndarray, mask: np.ndarray, sign: float, beam_area_px: float, *, merge_chan: int = 4,
                    merge_px: int = 2, min_chan: int = 3, min_px: int = 4, min_snr: float = 3.0) -> Candidates:
    """Link one sign's clip mask into candidates and keep those with integrated S/N ≥ ``min_snr``."""
    labels, n = link(mask, merge_chan, merge_px, min_chan, min_px)
    peak, total, count, centre = _stats(norm, labels, n, sign)
    cands = Candidates(sign, labels, peak, total, count, centre, beam_area_px)
    return cands.keep(np.flatnonzero(cands.snr >= min_snr))


def _cutout_origin(centre: np.ndarray, shape: tuple[int, ...], box: tuple[int, ...]) -> tuple[int, ...]:
    """Corner of a ``box`` centred on ``centre``, shifted to lie inside the cube where it fits."""
    return tuple(int(np.clip(c - b // 2, 0, max(n - b, 0))) for c, n, b in zip(centre, shape, box))


def network_scores(model, norm: np.ndarray, cands: Candidates, *, box=CUTOUT, batch: int = 16, top: int = 10,
                   progress: Progress = quiet) -> np.ndarray:
    """Each candidate's network score: the mean of the ``top`` highest source probabilities over its own
    voxels, the network run on a ``box`` cutout of sign × cube around the candidate's peak (batched)."""
    import torch

    if cands.n == 0:
        return np.zeros(0)
    device = next(model.parameters()).device
    size = tuple(min(b, n + (-n % 8)) for b, n in zip(box, norm.shape))
    objects = ndimage.find_objects(cands.labels)
    scores = np.zeros(cands.n)
    for start in range(0, cands.n, batch):
        ks = range(start, min(start + batch, cands.n))
        x = np.zeros((len(ks), 1) + size, np.float32)
        origins = []
        for j, k in enumerate(ks):
            o = _cutout_origin(cands.centre[k], norm.shape, size)
            sl = tuple(slice(a, a + s) for a, s in zip(o, size))
            piece = norm[sl]
            x[j, 0, :piece.shape[0], :piece.shape[1], :piece.shape[2]] = cands.sign * piece
            origins.append(o)
        with torch.inference_mode():
            prob = torch.sigmoid(model(torch.from_numpy(x).to(device)))[:, 0].float().cpu().numpy()
        for j, k in enumerate(ks):
            scores[k] = _top_mean(prob[j], cands.labels, k + 1, origins[j], objects[k], top)
        done = min(start + batch, cands.n)
        progress(done / cands.n, f"hi_unet scoring candidates: {done} of {cands.n}")
    return scores


def _top_mean(prob: np.ndarray, labels: np.ndarray, label: int, origin, obj, top: int) -> float:
    """Mean of the ``top`` highest probabilities on the candidate's voxels inside the cutout."""
    if obj is None:
        return 0.0
    lo = [max(s.start, o) for s, o in zip(obj, origin)]
    hi = [min(s.stop, o + n) for s, o, n in zip(obj, origin, prob.shape)]
    if any(h <= low for low, h in zip(lo, hi)):
        return 0.0
    own = labels[tuple(slice(a, b) for a, b in zip(lo, hi))] == label
    p = prob[tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin))][own]
    if p.size == 0:
        return 0.0
    return float(np.sort(p)[-top:].mean())
