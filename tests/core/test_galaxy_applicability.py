"""tasks.inference.galaxy_applicability: the shipped reference flags galaxies unlike the training generator's,
stays silent on its held-out galaxies, refuses NaN with a typed error, and the posterior follows the stated rules."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from astroml_core.errors import NonFiniteError, ShapeError
from astroml_core.tasks.inference.galaxy_applicability import COMBINE_RULE, SINGLE_RULE, judge, load_reference
from astroml_core.train.inference import GALAXY_HELD_OUT_SEED, galaxy_set


@functools.lru_cache(maxsize=None)
def _held_out(n: int = 2000):
    return galaxy_set(n, GALAXY_HELD_OUT_SEED)


def test_silent_on_at_least_95_percent_of_the_own_held_out_galaxies():
    verdict = judge(_held_out()[1])
    assert verdict.flagged.mean() <= 0.05 and verdict.flagged.mean() > 0      # a 99th-percentile threshold
    assert np.median(verdict.scores) < 0.7                                   # ≈ √11 / threshold


@pytest.mark.parametrize("shift", [dict(V_max=1.0), dict(M_star=1.0), dict(sigma_v=-1.0), dict(all=1.0),
                                   dict(Z_gas=1.0, Z_star=1.0)], ids=str)
def test_flags_galaxies_shifted_by_a_dex(shift):
    from astroml_core.sim.galaxies import PROPERTIES

    props = _held_out()[1][:100].astype(float).copy()
    names = [n for n, _ in PROPERTIES]
    for name, dex in shift.items():
        if name == "all":
            props += dex
        else:
            props[:, names.index(name)] += dex
    verdict = judge(props)
    assert verdict.flagged.all() and not verdict.in_distribution
    assert "unlike the galaxies the model was trained on" in verdict.message()


def test_nan_and_wrong_shapes_are_typed_errors():
    props = _held_out()[1][:3].astype(float).copy()
    props[1, 4] = np.nan
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        judge(props)
    with pytest.raises(ShapeError, match=r"\(k, 11\)"):
        judge(np.zeros((2, 10)))


def test_the_shipped_reference_is_what_the_train_script_fits():
    from astroml_core.train.galaxy_applicability import N_REFERENCE, N_TUNING, QUANTILE, REFERENCE_SEED, TUNING_SEED, fit

    ref = load_reference()
    fitted = fit(galaxy_set(N_REFERENCE, REFERENCE_SEED)[1], galaxy_set(N_TUNING, TUNING_SEED)[1])
    assert ref.quantile == QUANTILE
    np.testing.assert_allclose(ref.mean, fitted["mean"], rtol=1e-9)
    assert ref.threshold == pytest.approx(float(fitted["threshold"]), rel=1e-9)


def test_meta_names_the_flagged_rows_and_the_rule():
    props = _held_out()[1][:3].astype(float).copy()
    props[1, 4] += 1.0
    meta = judge(props, rows=[4, 9, 12]).meta()
    assert meta["flagged_rows"] == [9] and meta["rule"] == COMBINE_RULE and meta["threshold"] == 1.0
    assert meta["score"] == max(meta["scores"].values()) > 1
    assert judge(props[1:2]).meta()["rule"] == SINGLE_RULE and judge(props[:1]).meta()["rule"] is None


def test_a_flagged_galaxy_is_never_a_confident_narrow_posterior_and_is_left_out_of_a_combination():
    from astroml_core.tasks.inference.galaxy import combined_posterior

    theta, props = _held_out()
    odd = props[:1].astype(float) + np.eye(11)[4]                # V_max 10× too high
    alone = combined_posterior(odd, n_draws=4000)
    lo, _, hi = alone.interval("omega_m")
    assert not alone.in_distribution and alone.n_galaxies == 0 and (hi - lo) / 2 == pytest.approx(0.136, abs=0.01)
    good = combined_posterior(props[1:5], n_draws=4000)
    mixed = combined_posterior(np.vstack([odd, props[1:5]]), n_draws=4000)
    assert mixed.n_galaxies == 4 and not mixed.in_distribution
    assert mixed.interval("omega_m") == pytest.approx(good.interval("omega_m"), abs=0.01)
