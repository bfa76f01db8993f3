"""Scores of posterior estimators on held-out simulations: R² of the posterior mean, TARP expected
coverage (Lemos+2023, arXiv:2302.03026), simulation-based-calibration ranks (Talts+2018) and the
coverage of central credible intervals."""
from __future__ import annotations

import numpy as np

__all__ = ["r2_score", "tarp_coverage", "tarp_max_deviation", "sbc_ranks", "rank_uniformity",
           "interval_coverage", "relative_width", "scores_by_range", "known_below_r2"]


def r2_score(true: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column, 1 − Σ(y − ŷ)² / Σ(y − ȳ)²."""
    true, estimate = np.atleast_2d(true.T).T, np.atleast_2d(estimate.T).T
    resid = ((true - estimate) ** 2).sum(axis=0)
    total = ((true - true.mean(axis=0)) ** 2).sum(axis=0)
    return 1 - resid / total


def tarp_coverage(samples: np.ndarray, truth: np.ndarray, *, seed: int = 0, n_alpha: int = 51,
                  references: int = 16):
    """(α, expected coverage) of TARP: for each test, the fraction of posterior samples closer to a random
    reference point than the truth is; calibrated posteriors give coverage = α.

    ``samples`` (n_tests, n_samples, n_params) and ``truth`` (n_tests, n_params) must be scaled to the
    unit prior box; references are drawn uniformly in it, ``references`` per test and pooled: with one
    (Lemos+2023's estimator) the curve's largest deviation on 1,000 tests moves by ~0.01 with the seed."""
    rng = np.random.default_rng(seed)
    f = []
    for _ in range(references):
        ref = rng.uniform(size=truth.shape)
        d_samples = np.linalg.norm(samples - ref[:, None, :], axis=-1)
        d_truth = np.linalg.norm(truth - ref, axis=-1)
        f.append((d_samples < d_truth[:, None]).mean(axis=1))
    f = np.concatenate(f)
    alpha = np.linspace(0, 1, n_alpha)
    return alpha, (f[:, None] < alpha[None, :]).mean(axis=0)


def tarp_max_deviation(samples: np.ndarray, truth: np.ndarray, *, seed: int = 0, references: int = 16) -> float:
    """Largest |coverage − α| of the TARP curve."""
    alpha, cov = tarp_coverage(samples, truth, seed=seed, references=references)
    return float(np.abs(cov - alpha).max())


def sbc_ranks(samples: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Rank of each true value among its posterior samples, per parameter: (n_tests, n_params)."""
    return (samples < truth[:, None, :]).sum(axis=1)


def rank_uniformity(ranks: np.ndarray, n_samples: int) -> np.ndarray:
    """Kolmogorov–Smirnov distance of each parameter's normalised ranks from uniform (0 is perfect;
    ~1.36/√n is the 95 % bound for n tests)."""
    u = np.sort((ranks + 0.5) / (n_samples + 1), axis=0)
    n = len(u)
    grid = (np.arange(1, n + 1) / n)[:, None]
    return np.maximum(np.abs(grid - u), np.abs(grid - 1 / n - u)).max(axis=0)


def interval_coverage(samples: np.ndarray, truth: np.ndarray, level: float) -> np.ndarray:
    """Fraction of tests whose truth lies in the central ``level`` credible interval, per parameter."""
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=1)
    return ((truth >= lo) & (truth <= hi)).mean(axis=0)


def relative_width(samples: np.ndarray) -> np.ndarray:
    """Half the central 68 % interval over the posterior median, per test and parameter."""
    lo, med, hi = np.quantile(samples, [0.16, 0.5, 0.84], axis=1)
    return (hi - lo) / 2 / np.abs(med)


def scores_by_range(truth: np.ndarray, mean: np.ndarray, q16: np.ndarray, q84: np.ndarray, edges) -> list[dict]:
    """One parameter's held-out scores per range of its true value: count, RMSE and median absolute error
    of the posterior mean, median 68 % half-width beside a uniform prior's spread over the range, 68 % coverage; shows where
    along the prior the data carry information and where the posterior is the prior."""
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        s = (truth >= lo) & (truth < hi)
        row = dict(low=float(lo), high=float(hi), n=int(s.sum()), rmse=np.nan, median_error=np.nan, half_width=np.nan,
                   range_sd=float((hi - lo) / np.sqrt(12)), coverage_68=np.nan)
        if s.any():
            error = mean[s] - truth[s]
            row.update(rmse=float(np.sqrt(np.mean(error**2))), median_error=float(np.median(np.abs(error))),
                       half_width=float(np.median((q84[s] - q16[s]) / 2)),
                       coverage_68=float(np.mean((q16[s] <= truth[s]) & (truth[s] <= q84[s]))))
        rows.append(row)
    return rows

def known_below_r2(truth: np.ndarray, split: float) -> float:
    """R² of an estimator that knows the parameter exactly below ``split`` and only its spread above (it
    answers the mean of the values above): the best R² when the data say nothing above ``split``."""
    above = truth >= split
    return float(1 - above.mean() * np.var(truth[above]) / np.var(truth)) if above.any() else 1.0
