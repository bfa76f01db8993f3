"""Reliability that each cube calibrates on itself: negative candidates (the finder run on the negated cube)
are pure noise, so how many of them reach a given detection statistic says how many positive candidates
that strong are noise too (Serra+2012; SoFiA's reliability, here in one dimension).

Each positive candidate's reliability is 1 − q, q the estimated fraction of noise among the candidates at
least as strong as it (E_noise(≥ s) / N_pos(≥ s), made monotone as Storey's q-values). E_noise counts the
negatives, continued beyond the strongest of them by an exponential fitted to their upper tail (an
exponential falls more slowly than a Gaussian-noise tail, so it errs towards calling things noise). The
tail measured on the training noise, per voxel, is a floor: a cube's own negatives can raise the bar
(noise the network finds source-like), never lower it below what the training noise demands.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NoiseTail", "AtLeast", "fit_tail", "reliability", "MIN_NEGATIVES"]

MIN_NEGATIVES = 20          # fewer negative candidates than this: use the prior tail


@dataclass(frozen=True)
class NoiseTail:
    """Expected number of noise candidates with statistic ≥ s.

    ``values``: the negatives' statistics (descending), counted as they are below ``u``; above ``u`` (the
    ``n_tail``-th largest) the count falls as n_tail · exp(−(s − u)/scale). ``weight`` scales the whole
    curve (a per-voxel prior × a cube's voxels).
    """

    values: tuple[float, ...]
    u: float
    n_tail: int
    scale: float
    weight: float = 1.0

    def expected(self, s) -> np.ndarray:
        """E[number of noise candidates with statistic ≥ s] (array in, array out)."""
        s = np.atleast_1d(np.asarray(s, float))
        v = np.sort(np.asarray(self.values, float))
        counted = v.size - np.searchsorted(v, s, side="left")
        beyond = self.n_tail * np.exp(-np.maximum(s - self.u, 0.0) / self.scale)   # used only where s ≥ u
        return self.weight * np.where(s >= self.u, beyond, np.maximum(counted, self.n_tail))

    def scaled(self, weight: float) -> "NoiseTail":
        """The same tail times ``weight`` (a per-voxel prior for a cube of so many voxels)."""
        return NoiseTail(self.values, self.u, self.n_tail, self.scale, self.weight * weight)

    def to_dict(self, n_keep: int = 0) -> dict:
        """Plain numbers for a model card (the ``n_keep`` largest values kept)."""
        return dict(u=round(self.u, 4), n_tail=self.n_tail, scale=round(self.scale, 4), weight=self.weight,
                    values=[round(float(x), 4) for x in sorted(self.values, reverse=True)[:n_keep]])

    @classmethod
    def from_dict(cls, d: dict) -> "NoiseTail":
        return cls(tuple(d.get("values", ())), float(d["u"]), int(d["n_tail"]), float(d["scale"]),
                   float(d.get("weight", 1.0)))


@dataclass(frozen=True)
class AtLeast:
    """The larger of two tails at every statistic: a cube's own noise may raise the bar set by the training
    noise, never lower it (a few dozen negatives cannot vouch for a 5% tail on their own)."""

    own: NoiseTail
    floor: NoiseTail

    def expected(self, s) -> np.ndarray:
        return np.maximum(self.own.expected(s), self.floor.expected(s))


def fit_tail(negatives: np.ndarray, *, tail_fraction: float = 0.3, min_tail: int = 8) -> NoiseTail:
    """Exponential upper tail of the negatives' statistics (maximum likelihood for the excess over u)."""
    v = np.sort(np.asarray(negatives, float))[::-1]
    if v.size == 0:
        return NoiseTail((), 0.0, 1, 1.0)
    n_tail = int(min(v.size, max(min_tail, round(tail_fraction * v.size))))
    u = float(v[n_tail - 1])
    scale = float(max(np.mean(v[:n_tail] - u), 1e-3)) if n_tail > 1 else 1.0
    return NoiseTail(tuple(map(float, v)), u, n_tail, scale)


def reliability(positives: np.ndarray, tail: NoiseTail) -> np.ndarray:
    """1 − q for each positive statistic: q = min over thresholds t ≤ s of E_noise(≥ t) / N_pos(≥ t)."""
    s = np.asarray(positives, float)
    if s.size == 0:
        return np.zeros(0)
    order = np.argsort(-s)
    fdr = tail.expected(s[order]) / np.arange(1, s.size + 1)
    q = np.minimum.accumulate(fdr[::-1])[::-1]
    out = np.empty(s.size)
    out[order] = 1.0 - np.clip(q, 0.0, 1.0)
    return out
