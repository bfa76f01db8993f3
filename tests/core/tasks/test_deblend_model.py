"""The shipped deblend_unet on held-out simulated fields (seeds 2000+, never used in training), against
sep on the same fields: the issue's "Must show" numbers, on galaxies with detection S/N ≥ 10."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.registry import load_model, read_card
from astroml_core.train.deblend import HELD_OUT_SEEDS, evaluate, unrecognised_rows

SEEDS = HELD_OUT_SEEDS          # the 150 fields the card reports


@pytest.fixture(scope="module")
def held_out():
    return evaluate(load_model("deblend_unet", "cpu"), SEEDS, progress=lambda m: None)


@pytest.fixture(scope="module")
def scores(held_out):
    return held_out["scores"]


def test_model_finds_more_blended_galaxies_than_sep(scores):
    model, sep = scores["model"].summary(0.1), scores["sep"].summary(0.1)
    assert model["completeness"] > sep["completeness"], (model, sep)


def test_blended_photometry_beats_sep_fourfold(scores):
    model, sep = scores["model"].summary(0.1), scores["sep"].summary(0.1)
    assert model["mape"] * 4 <= sep["mape"], (model, sep)
    both = (scores["model"].blendedness > 0.1) & scores["model"].found & scores["sep"].found
    same = {m: np.mean(np.abs(np.concatenate([e[both] for e in scores[m].rel_err.values()]))) for m in ("model", "sep")}
    assert both.sum() >= 50 and same["model"] * 4 <= same["sep"], same      # on the blends both found


def test_blended_photometry_is_unbiased(scores):
    assert abs(scores["model"].summary(0.1)["bias"]) <= 0.02


NOT_YET = ("issue 4, declared blocked: MAPE ~17% and mean IoU ~0.79 on blended galaxies with S/N ≥ 10 (sep: 103%, 0.58); "
           "the noise floor (every true shape known, same galaxies) is 9.0%; given the true centres the splitter "
           "reaches 10%; galaxies within 2\u2033 of one the detector missed (median 0.6 PSF FWHM from a neighbour) carry a third "
           "of the error (MAPE 38%; the others 13%, IoU 0.81); the same mask rule on "
           "the true images of the galaxies it found gives IoU 0.96, so the splitter's shapes cost the IoU")


@pytest.mark.xfail(strict=True, reason=NOT_YET)
def test_blended_photometry_mape_at_most_7_percent(scores):
    assert scores["model"].summary(0.1)["mape"] <= 0.07


@pytest.mark.xfail(strict=True, reason=NOT_YET)
def test_matched_masks_overlap_the_truth(scores):
    assert scores["model"].summary(0.1)["mean_iou"] >= 0.8


def test_card_states_the_command_hash_and_tables():
    front, body = read_card("deblend_unet")
    assert front["command"] == "python -m astroml_core.train deblend" and len(front["weights_sha256"]) == 64
    assert "By blendedness" in body and "### sep" in body
    assert np.isfinite(front["held_out_blended"]["model"]["mape"])
    assert "### noise floor" in body and front["held_out_blended_noise_floor"]["mape"] > 0
    assert "| true shapes |" in body and front["held_out_blended_true_shapes_iou"] > front["held_out_blended"]["model"]["mean_iou"]
    assert "## Held-out pairs" in body and front["held_out_pairs"]["pairs"] > 250


def test_card_unrecognised_blends_are_the_shipped_weights_and_cost_the_most(held_out):
    front, body = read_card("deblend_unet")
    card = front["held_out_unrecognised"]
    rows = unrecognised_rows(held_out)
    assert [r["n_found"] for r in card["rows"]] == [r["n_found"] for r in rows]
    assert [r["mape"] for r in card["rows"]] == pytest.approx([r["mape"] for r in rows], abs=1e-4)
    assert card["missed"] == held_out["missed_nearest"].size > 0
    everyone, beside, others = rows
    assert beside["n_found"] + others["n_found"] == everyone["n_found"] and beside["n_found"] > 0
    assert beside["mape"] > 2 * others["mape"] and beside["mean_iou"] < others["mean_iou"]
    assert "## Unrecognised blends" in body and "| beside a missed galaxy |" in body


@pytest.fixture(scope="module")
def samples():
    """Every held-out galaxy the network matched: its blendedness, band S/N and flux errors."""
    from astroml_core.train.deblend import flux_error_samples

    return flux_error_samples(load_model("deblend_unet", "cpu"), SEEDS)


def test_blendedness_from_the_deblended_images_follows_the_truth(samples):
    from astroml_core.train.deblend import blendedness_agreement

    agreement = blendedness_agreement(samples)
    assert agreement["n"] > 500 and agreement["spearman"] >= 0.9 and agreement["blended_agree"] >= 0.9, agreement
    assert read_card("deblend_unet")[0]["held_out_blendedness"] == agreement      # the card's figures are these


def test_the_cards_flux_errors_cover_two_thirds_of_held_out_fluxes(samples):
    from astroml_core.tasks.deblend.errors import FluxErrorModel
    from astroml_core.train.deblend import error_coverage

    front, _ = read_card("deblend_unet")
    errors = FluxErrorModel.from_dict(front["flux_error"])
    rows = error_coverage(errors, samples)
    assert rows == front["flux_error"]["held_out_coverage"]
    assert 0.63 <= rows[0]["within_1sigma"] <= 0.73 and rows[0]["within_2sigma"] >= 0.85, rows[0]
    assert all(0.6 <= r["within_1sigma"] <= 0.78 for r in rows[1:]), rows      # in every blendedness bin


def test_quoted_errors_hold_for_the_networks_blends_and_not_for_seps():
    from astroml_core.tasks.deblend.classic import sep_deblend
    from astroml_core.train.deblend import flux_error_samples, quoted_coverage

    card = read_card("deblend_unet")[0]["flux_error"]["held_out_blended_quoted_coverage"]
    sep = quoted_coverage(flux_error_samples(None, SEEDS, sep_deblend))
    assert sep == card["sep"]
    assert 0.6 <= card["model"]["within_1sigma"] <= 0.75 and sep["within_1sigma"] < 0.3     # noise alone misses the blend
