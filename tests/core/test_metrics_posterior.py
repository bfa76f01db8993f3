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


def test_scores_by_range_find_where_the_posterior_is_the_prior():
    """A posterior that knows the truth below 700 and answers the prior above: RMSE 0 and narrow below,
    prior-wide above; the R² it reaches is the known-below ceiling (for a uniform 100–1500 prior ≈ 0.813)."""
    from astroml_core.metrics.posterior import known_below_r2, scores_by_range

    rng = np.random.default_rng(1)
    truth = rng.uniform(100, 1500, 20_000)
    above = truth >= 700
    mean = np.where(above, 1100.0, truth)
    half = np.where(above, 800 / np.sqrt(12), 1.0)
    rows = scores_by_range(truth, mean, mean - half, mean + half, [100, 700, 1500])
    assert rows[0]["rmse"] == pytest.approx(0.0) and rows[0]["half_width"] == pytest.approx(1.0)
    assert rows[1]["rmse"] == pytest.approx(rows[1]["range_sd"], rel=0.02)
    assert rows[1]["half_width"] == pytest.approx(rows[1]["range_sd"])
    assert rows[0]["n"] + rows[1]["n"] == len(truth)
    ceiling = known_below_r2(truth, 700)
    assert ceiling == pytest.approx(1 - (8 / 14) * (8 / 14) ** 2, abs=0.01)
    assert r2_score(truth, mean) == pytest.approx(ceiling, abs=1e-6)


def test_lightcone_card_e0_section_says_where_e0_is_not_constrained():
    """The card's E₀ section from given held-out arrays: prior-wide posteriors above 700 eV read as no
    information, and the known-below ceiling is compared with 3D-21cmPIE-Net's 0.826; posteriors that
    know E₀ everywhere leave no such sentence."""
    from astroml_core.train.inference_card import _e0_section

    rng = np.random.default_rng(2)
    truth = np.column_stack([rng.uniform(lo, hi, 3000) for lo, hi in
                             ((0.2, 0.4), (10, 250), (4, 5.3), (38, 42), (100, 1500), (0.3, 10))])
    e0 = truth[:, 4]
    mean = truth.copy()
    mean[:, 4] = np.where(e0 >= 700, 1100.0, e0)
    half = np.where(e0 >= 700, 240.0, 5.0)
    arrays = dict(truth=truth, mean=mean, q16=mean - half[:, None], q84=mean + half[:, None])
    front, text = _e0_section(arrays)
    assert front["known_below_split_r2"] == pytest.approx(0.813, abs=0.01) and front["information_above_split"] == "no"
    assert "carry no information on E₀ there" in text and "below 3D-21cmPIE-Net's 0.826" in text
    assert [r["n"] for r in front["by_range"]] == [int(((e0 >= lo) & (e0 < hi)).sum()) for lo, hi in
                                                   ((100, 300), (300, 500), (500, 700), (700, 1000), (1000, 1500.001))]
    half = np.full(len(e0), 5.0)
    arrays.update(mean=truth, q16=truth - half[:, None], q84=truth + half[:, None])
    assert "constrain E₀ there too" in _e0_section(arrays)[1]
