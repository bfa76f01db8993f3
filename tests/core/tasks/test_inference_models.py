"""The shipped posterior models scored on held-out simulations (seeds never used in training) against
the issue's numbers: 3D-21cmPIE-Net's R² where our simulator shares the parameter, R² ≥ 0.9 where the
lightcones constrain it, TARP within 0.05 of the diagonal; one galaxy: Ω_m to ~10 % with honest coverage;
several galaxies of one universe: a narrower Ω_m interval that still holds the truth."""
from __future__ import annotations

import pytest

from astroml_core.registry import load_model, read_card
from astroml_core.sim.galaxies import GALAXY_PARAMETERS
from astroml_core.sim.lightcone import PARAMETERS
from astroml_core.tasks.inference import DEMO_UNIVERSES, combined_posterior, demo_universe
from astroml_core.train.galaxy_ladder import generator_ladder
from astroml_core.train.inference import GALAXY_HELD_OUT_SEED, galaxy_set
from astroml_core.train.inference_eval import NEUTSCH_R2, evaluate_galaxy, evaluate_lightcone
from astroml_core.train.lightcone_sets import HELD_OUT_SEED, lightcone_set


@pytest.fixture(scope="module")
def lightcone_scores(tmp_path_factory):
    held = lightcone_set(1000, HELD_OUT_SEED, tmp_path_factory.mktemp("cache"))
    return evaluate_lightcone(load_model("lightcone_flow", "cpu"), held)[0]


@pytest.fixture(scope="module")
def galaxy_scores():
    theta, props = galaxy_set(2000, GALAXY_HELD_OUT_SEED)
    return evaluate_galaxy(load_model("galaxy_flow", "cpu"), theta, props)[0]


def test_lightcone_scores_reproduce_the_model_card(lightcone_scores):
    card = read_card("lightcone_flow")[0]["held_out"]
    for p in PARAMETERS:
        assert lightcone_scores["per_parameter"][p.name]["r2"] == pytest.approx(card["r2"][p.name], abs=0.01)


# Where the shipped model falls short of the numbers (issue 6 stays open on these). E0: hard X-ray
# spectra heat late and uniformly, so lightcones with E0 ≳ 700 eV look alike in our simulator.
SHORT_OF_TARGET = {"e0": "E0 R² 0.744 < 0.826 (3D-21cmPIE-Net): above 700 eV the held-out posteriors are as wide as "
                         "the prior (the card's E₀ by range), so even knowing E0 exactly below 700 eV gives R² 0.804; "
                         "our E0 moves the mean signal 3× less than 21cmFAST's (python -m astroml_core.validate lightcone)"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=SHORT_OF_TARGET[n], strict=True))
                                  if n in SHORT_OF_TARGET else n for n in NEUTSCH_R2])
def test_lightcone_r2_reaches_3d_21cmpie_net(lightcone_scores, name):
    assert lightcone_scores["per_parameter"][name]["r2"] >= NEUTSCH_R2[name]


def test_parameters_the_lightcones_constrain_reach_r2_0_9(lightcone_scores):
    r2 = {k: v["r2"] for k, v in lightcone_scores["per_parameter"].items()}
    constrained = {name for name, value in r2.items() if value >= 0.9}
    assert {"omega_m", "zeta", "log_lx"} <= constrained


def test_lightcone_tarp_within_0_05_of_the_diagonal(lightcone_scores):
    assert lightcone_scores["tarp_max_deviation"] <= 0.05


def test_lightcone_intervals_hold_the_truth_as_often_as_they_claim(lightcone_scores):
    for p in PARAMETERS:
        s = lightcone_scores["per_parameter"][p.name]
        assert s["coverage_68"] == pytest.approx(0.68, abs=0.06), p.name
        assert s["coverage_95"] == pytest.approx(0.95, abs=0.03), p.name


def test_one_galaxy_gives_omega_m_to_about_ten_percent_with_honest_coverage(galaxy_scores):
    om = galaxy_scores["per_parameter"]["omega_m"]
    assert om["median_relative_width"] <= 0.15
    assert om["coverage_68"] == pytest.approx(0.68, abs=0.03)
    assert om["coverage_95"] == pytest.approx(0.95, abs=0.02)
    assert galaxy_scores["tarp_max_deviation"] <= 0.05
    assert {p.name for p in GALAXY_PARAMETERS} == set(galaxy_scores["per_parameter"])


@pytest.mark.xfail(reason="one galaxy gives Ω_m to ~14 % (68 % half-width), not CAMELS' ~10 %: our generator's "
                          "scatter leaves less information (a flow trained on 50,000 galaxies is as wide as on "
                          "200,000: 0.135 vs 0.138, so more data or training will not narrow it); gradient-boosted "
                          "trees find CAMELS' information in it with all properties, but its stellar metallicity "
                          "adds less than TNG's", strict=True)
def test_one_galaxy_omega_m_width_is_ten_percent_as_in_camels(galaxy_scores):
    assert galaxy_scores["per_parameter"]["omega_m"]["median_relative_width"] <= 0.12


def test_generator_holds_about_as_much_omega_m_as_camels_galaxies():
    """The gradient-boosting ladder of Villaescusa-Navarro+2022 on our generator, as the card quotes it."""
    rows = generator_ladder()
    card = read_card("galaxy_flow")[0]["camels_gradient_boosting"]
    assert [r["rmse"] for r in rows] == pytest.approx([r["rmse"] for r in card], abs=0.003)
    assert rows[-1]["rmse"] == pytest.approx(rows[-1]["camels_rmse"], abs=0.01)     # all properties: as in TNG
    assert rows[0]["rmse"] > 0.09                                                   # V_max alone says little


@pytest.mark.parametrize("universe", list(DEMO_UNIVERSES))
def test_more_galaxies_of_one_universe_narrow_omega_m_around_the_truth(universe):
    truth, props = demo_universe(universe)
    widths = []
    for k in (1, 2, 8):
        lo, med, hi = combined_posterior(props[:k]).interval("omega_m", 0.95)
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]
    lo, _, hi = combined_posterior(props[:8]).interval("omega_m", 0.95)
    assert lo <= truth["omega_m"] <= hi
