"""The applicability references and summary heads behind the lightcone posterior (issue 32), on synthetic summaries
whose answers are known: the threshold passes ~98 % of fresh summaries of the same kind and flags shifted ones,
and the ridge head's Gaussian covers the truth as often as it says."""
import numpy as np
import pytest

from astroml_core.tasks.inference.lightcone_applicability import (Reference, head_draws, widened_to_prior,
                                                                  WIDEN_RULE)
from astroml_core.train.lightcone_applicability import QUANTILE, fit_reference, truncated

NAMES = ("omega_m", "zeta")


def _domain(n: int, seed: int, shift: float = 0.0):
    """Summaries (n, 48) with a few strong axes, and truths that depend linearly on them (logit space + noise)."""
    rng = np.random.default_rng(seed)
    scales = np.r_[np.linspace(5, 1, 8), np.full(40, 0.2)]
    s = rng.standard_normal((n, 48)) * scales + shift
    z = np.stack([s[:, 0] / 5 + 0.3 * rng.standard_normal(n), -s[:, 1] / 4 + 0.3 * rng.standard_normal(n)], axis=1)
    u = 1 / (1 + np.exp(-z))
    theta = np.stack([0.2 + 0.2 * u[:, 0], 10 + 240 * u[:, 1]], axis=1)
    return s, theta, z


@pytest.fixture(scope="module")
def reference():
    s, theta, _ = _domain(600, 0)
    arrays = fit_reference("own", 672, s, theta, NAMES)
    return Reference("own", 672, arrays["mean"], arrays["whiten"], float(arrays["threshold"]), arrays["head_w"],
                     arrays["head_b"], arrays["head_chol"], NAMES)


def test_threshold_passes_its_own_kind_and_flags_a_shifted_one(reference):
    fresh, _, _ = _domain(2000, 1)
    scores = np.array([reference.score(x) for x in fresh])
    assert abs((scores <= 1).mean() - QUANTILE) < 0.03
    shifted, _, _ = _domain(200, 2, shift=3.0)
    assert (np.array([reference.score(x) for x in shifted]) > 1).mean() > 0.95


def test_head_covers_the_truth_as_often_as_it_says(reference):
    fresh, _, z = _domain(400, 3)
    rng = np.random.default_rng(0)
    inside = []
    for x, truth in zip(fresh, z):
        draws = head_draws(reference, x, 400, rng)[:, :2]
        lo, hi = np.quantile(draws, [0.025, 0.975], axis=0)
        inside.append((lo <= truth) & (truth <= hi))
    coverage = np.mean(inside, axis=0)
    assert np.all(np.abs(coverage - 0.95) < 0.04), coverage


def test_parameters_the_head_does_not_fit_keep_their_prior(reference):
    draws = head_draws(reference, np.zeros(48), 20000, np.random.default_rng(1))
    u = 1 / (1 + np.exp(-draws[:, 2:]))                 # log_tvir … m_wdm: uniform over the prior
    assert np.all(np.abs(u.mean(axis=0) - 0.5) < 0.02) and np.all(np.abs(u.std(axis=0) - 12 ** -0.5) < 0.02)


def test_widening_spans_most_of_the_prior_about_the_networks_answer():
    rng = np.random.default_rng(0)
    narrow = rng.normal([0.0, 2.0, -9.0, 0, 0, 0], 0.05, size=(20000, 6))
    wide = widened_to_prior(narrow)
    lo, hi = np.quantile(1 / (1 + np.exp(-wide)), [0.025, 0.975], axis=0)
    assert hi[0] - lo[0] > 0.9 and hi[1] - lo[1] > 0.75 and hi[2] - lo[2] > 0.75 and "prior" in WIDEN_RULE
    np.testing.assert_allclose(np.median(wide, axis=0)[:2], np.median(narrow, axis=0)[:2], atol=1e-6)  # where the network said
    assert abs(np.median(wide[:, 2]) + 2.0) < 1e-6                                          # … unless at the prior's edge
    broad = rng.normal(0, 3.0, size=(1000, 6))
    np.testing.assert_allclose(widened_to_prior(broad), broad, atol=1e-12)         # already wide, central: untouched


def test_truncation_zeroes_the_far_blocks_only():
    m = np.ones((2, 2, 4, 4, 168), dtype=np.float16)
    cut = truncated(m, 384)
    assert cut[..., :96].min() == 1 and cut[..., 96:].max() == 0 and m.min() == 1


def test_the_shipped_applicability_file_was_fitted_for_the_shipped_weights():
    from astroml_core.registry import MODEL_DIR, sha256

    with np.load(MODEL_DIR / "lightcone_flow" / "applicability.npz") as data:
        assert str(data["weights_sha256"]) == sha256(MODEL_DIR / "lightcone_flow" / "weights.pt"), \
            "retrained weights: run python -m astroml_core.train lightcone-applicability"
