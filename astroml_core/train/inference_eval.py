"""Held-out scores of the posterior networks: R², TARP, SBC ranks, interval coverage and widths.

The same functions back the model cards, the model-quality tests and the inference page's held-out
plots, so the three always agree.
"""
from __future__ import annotations

import numpy as np

from ..metrics.posterior import (interval_coverage, r2_score, rank_uniformity, relative_width, sbc_ranks,
                                 tarp_coverage)
from ..sim.galaxies import GALAXY_PARAMETERS
from ..sim.lightcone import PARAMETERS
from .lightcone_sets import LightconeSet

__all__ = ["posterior_draws", "score", "evaluate_lightcone", "evaluate_galaxy", "NEUTSCH_R2"]

# 3D-21cmPIE-Net on bare 21cmFAST lightcones (Neutsch+2022, arXiv:2201.07587)
NEUTSCH_R2 = {"omega_m": 0.974, "zeta": 0.975, "log_lx": 0.986, "e0": 0.826, "log_tvir": 0.776, "m_wdm": 0.613}


def posterior_draws(sample, inputs, n: int, params, seed: int = 0, chunk: int = 50) -> np.ndarray:
    """(n_tests, n, n_params) posterior samples: ``sample(batch, n)`` gives logit-space draws (B, n, P) for a
    chunk of ``inputs`` (a torch tensor); seeded, so cards and tests see the same draws."""
    import torch

    from ..models.inference_nets import from_unit, prior_bounds

    low, high = prior_bounds(params)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return np.concatenate([from_unit(sample(part, n), low, high).numpy() for part in inputs.split(chunk)])


def score(samples: np.ndarray, truth: np.ndarray, params) -> dict:
    """Every held-out number of a posterior estimator, per parameter and overall."""
    low = np.array([p.low for p in params])
    high = np.array([p.high for p in params])
    unit_s, unit_t = (samples - low) / (high - low), (truth - low) / (high - low)
    alpha, cov = tarp_coverage(unit_s, unit_t)
    ranks = sbc_ranks(samples, truth)
    r2 = r2_score(truth, samples.mean(axis=1))
    c68, c95 = interval_coverage(samples, truth, 0.68), interval_coverage(samples, truth, 0.95)
    ks = rank_uniformity(ranks, samples.shape[1])
    width = np.median(relative_width(samples), axis=0)
    lo, hi = np.quantile(samples, [0.16, 0.84], axis=1)
    half = np.median((hi - lo) / 2, axis=0)
    per = {p.name: dict(r2=float(r2[i]), coverage_68=float(c68[i]), coverage_95=float(c95[i]), sbc_ks=float(ks[i]),
                        median_relative_width=float(width[i]), median_half_width=float(half[i]),
                        prior_half_width=float((p.high - p.low) / 2 / np.sqrt(3)))
           for i, p in enumerate(params)}
    return dict(n_tests=len(truth), n_samples=samples.shape[1], tarp_max_deviation=float(np.abs(cov - alpha).max()),
                tarp_alpha=alpha.tolist(), tarp_coverage=cov.tolist(), per_parameter=per,
                sbc_ks_95_bound=float(1.36 / np.sqrt(len(truth))))


def _arrays(samples: np.ndarray, truth: np.ndarray, scores: dict) -> dict:
    """What the page plots: truth, posterior mean and 68 % bounds per test, SBC ranks, the TARP curve."""
    lo, hi = np.quantile(samples, [0.16, 0.84], axis=1)
    return dict(truth=truth.astype(np.float32), mean=samples.mean(axis=1).astype(np.float32),
                q16=lo.astype(np.float32), q84=hi.astype(np.float32), ranks=sbc_ranks(samples, truth).astype(np.int32),
                tarp_alpha=np.array(scores["tarp_alpha"]), tarp_coverage=np.array(scores["tarp_coverage"]))


def evaluate_lightcone(model, held_out: LightconeSet, n_samples: int = 1000) -> tuple[dict, dict]:
    """(scores, arrays) of the lightcone posterior (a :class:`LightconeEnsemble`) on a held-out set."""
    import torch

    samples = posterior_draws(lambda m, n: model.sample_summaries(model.summaries(m.float()), n),
                              torch.from_numpy(held_out.moments), n_samples, PARAMETERS)
    scores = score(samples, held_out.theta, PARAMETERS)
    return scores, _arrays(samples, held_out.theta, scores)


def evaluate_galaxy(model, theta: np.ndarray, props: np.ndarray, n_samples: int = 1000) -> tuple[dict, dict]:
    """(scores, arrays) of the one-galaxy posterior on held-out galaxies."""
    import torch

    samples = posterior_draws(lambda x, n: model.flow(model.embed(x)).sample((n,)).transpose(0, 1),
                              torch.from_numpy(props), n_samples, GALAXY_PARAMETERS)
    scores = score(samples, theta, GALAXY_PARAMETERS)
    return scores, _arrays(samples, theta, scores)
