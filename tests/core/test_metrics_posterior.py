"""Posterior metrics: calibrated posteriors pass TARP and SBC, overconfident ones fail them."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.metrics.posterior import (interval_coverage, r2_score, rank_uniformity, sbc_ranks,
                                            tarp_max_deviation)


def _gaussian_posteriors(scale: float, n_tests: int = 600, n_samples: int = 400, seed: int = 0):
    """Conjugate Gaussian problem: truth ~ N(0.5, 0.1²), data = truth + N(0, 0.05²); the exact posterior
    (scale 1) is calibrated, a narrower one (scale < 1) is overconfident."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(0.5, 0.1, size=(n_tests, 2))
    data = truth + rng.normal(0, 0.05, size=truth.shape)
    var = 1 / (1 / 0.1**2 + 1 / 0.05**2)
    mean = var * (0.5 / 0.1**2 + data / 0.05**2)
    samples = mean[:, None, :] + rng.normal(0, np.sqrt(var) * scale, size=(n_tests, n_samples, 2))
    return samples, truth


def test_calibrated_posteriors_pass_tarp_sbc_and_coverage():
    samples, truth = _gaussian_posteriors(1.0)
    assert tarp_max_deviation(samples, truth) < 0.06
    assert (rank_uniformity(sbc_ranks(samples, truth), 400) < 1.36 / np.sqrt(600)).all()
    assert interval_coverage(samples, truth, 0.68) == pytest.approx([0.68, 0.68], abs=0.05)


def test_overconfident_posteriors_fail_tarp_and_sbc():
    samples, truth = _gaussian_posteriors(0.3)
    assert tarp_max_deviation(samples, truth) > 0.15
    assert (rank_uniformity(sbc_ranks(samples, truth), 400) > 0.1).all()


def test_r2_is_one_for_perfect_and_zero_for_the_mean():
    y = np.arange(10.0)[:, None]
    assert r2_score(y, y)[0] == pytest.approx(1.0)
    assert r2_score(y, np.full_like(y, y.mean()))[0] == pytest.approx(0.0)


def test_pooled_tarp_references_steady_the_largest_deviation():
    """Several reference points per test estimate the same expected coverage with less scatter over seeds."""
    samples, truth = _gaussian_posteriors(1.0)
    spread = {k: np.std([tarp_max_deviation(samples, truth, seed=s, references=k) for s in range(8)]) for k in (1, 16)}
    assert spread[16] < 0.6 * spread[1]
