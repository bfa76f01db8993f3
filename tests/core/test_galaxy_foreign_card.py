"""galaxy_flow's card: the foreign-test numbers it claims, re-scored on a smaller fixed subset of the same seeds
(shipped weights and reference), and the real-file section saying plainly that there is no real catalogue."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from astroml_core.registry import read_card
from astroml_core.validate.galaxy_eval import posterior_draws_checked, summarise

N = 300


@functools.lru_cache(maxsize=None)
def _rescored(which: str) -> dict:
    import torch

    from astroml_core.registry import load_model
    from astroml_core.train.inference import GALAXY_HELD_OUT_SEED, galaxy_set
    from astroml_core.validate.galaxy_foreign import FOREIGN_SEEDS, foreign_galaxies

    theta, props = foreign_galaxies(N, FOREIGN_SEEDS[0]) if which == "foreign" else galaxy_set(N, GALAXY_HELD_OUT_SEED)
    draws, verdict = posterior_draws_checked(load_model("galaxy_flow", torch.device("cpu")), props, 500)
    return summarise(draws, np.asarray(theta, dtype=float), verdict.flagged)


@pytest.mark.parametrize("which", ["foreign", "own"])
def test_the_cards_numbers_hold_on_a_fixed_subset(which):
    card = read_card("galaxy_flow")[0]["foreign_test"][which]
    got = _rescored(which)
    assert card["n"] == 2000 and got["flag_rate"] == pytest.approx(card["flag_rate"], abs=0.04)
    for name in ("omega_m", "log_asn2"):
        want, have = card["all"][name], got["all"][name]
        assert have["r2"] == pytest.approx(want["r2"], abs=0.12), name
        assert have["coverage_68"] == pytest.approx(want["coverage_68"], abs=0.08), name
        assert have["coverage_95"] == pytest.approx(want["coverage_95"], abs=0.05), name
        assert have["median_half_width_68"] == pytest.approx(want["median_half_width_68"], rel=0.2), name


def test_few_own_galaxies_are_flagged_and_the_card_says_there_is_no_real_catalogue():
    front, body = read_card("galaxy_flow")
    assert front["foreign_test"]["own"]["flag_rate"] <= 0.05
    assert front["real_files"]["n_files"] == 0
    assert "No real galaxy property catalogue" in body and "galaxy-foreign --n 2000 --card" in body
