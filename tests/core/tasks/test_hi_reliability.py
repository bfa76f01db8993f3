"""Reliability calibrated on negative candidates: noise against noise gives nothing reliable, sources well
above the noise tail are reliable, and the tail counts what it was fitted to."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.tasks.hi.reliability import NoiseTail, fit_tail, reliability


def test_the_tail_counts_the_negatives_and_falls_beyond_the_strongest():
    neg = np.random.default_rng(0).normal(size=400)
    tail = fit_tail(neg)
    for s in (-1.0, 0.0, 0.5):       # below u: the negatives counted
        assert tail.expected(s)[0] == pytest.approx((neg >= s).sum(), abs=1)
    top = neg.max()
    e = tail.expected([top, top + 1, top + 2])
    assert 0 < e[2] < e[1] < e[0] < 5
    # an exponential falls more slowly than the Gaussian: beyond the data it errs towards noise
    from scipy.stats import norm
    assert e[1] > 400 * norm.sf(top + 1)


def test_pure_noise_is_not_reliable():
    """Positive and negative candidates from the same distribution: R ≥ 0.95 almost never (≤ 5% of trials
    accept anything at all)."""
    rng = np.random.default_rng(1)
    accepted = 0
    for _ in range(200):
        pos, neg = rng.normal(size=300), rng.normal(size=300)
        accepted += int((reliability(pos, fit_tail(neg)) >= 0.95).any())
    assert accepted <= 10, accepted


def test_sources_far_above_the_noise_tail_are_reliable_and_order_is_kept():
    rng = np.random.default_rng(2)
    neg = rng.normal(size=300)
    pos = np.r_[rng.normal(size=300), [8.0, 10.0, 12.0, 15.0]]
    rel = reliability(pos, fit_tail(neg))
    assert (rel[-4:] >= 0.99).all()
    assert (rel[:300] < 0.95).mean() > 0.98
    order = np.argsort(pos)
    assert np.all(np.diff(rel[order]) >= -1e-12)     # stronger is never less reliable


def test_a_prior_scales_with_the_voxels_and_round_trips_through_a_card():
    tail = fit_tail(np.random.default_rng(3).normal(size=100)).scaled(1e-6)
    back = NoiseTail.from_dict(tail.to_dict(n_keep=100))
    cube = back.scaled(2e6)
    assert cube.expected(0.0)[0] == pytest.approx(2 * (np.asarray(tail.values) >= 0).sum(), rel=0.05)


def test_no_candidates_give_no_reliabilities():
    assert reliability(np.zeros(0), fit_tail(np.zeros(0))).size == 0


def test_statistics_far_below_a_steep_tail_give_no_overflow_warning():
    """A steep tail (small scale) asked far below its start used to overflow exp() in the unused branch."""
    import warnings

    tail = NoiseTail((1.0, 0.5), u=0.5, n_tail=2, scale=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(tail.expected([-50.0, 0.5, 2.0])) == [2.0, 2.0, 0.0]
