"""The shipped spectra_net on held-out simulated spectra (seeds 3000/3001, never used in training or
validation): the issue's "Must show" numbers, and the classify() outputs a user reads."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.registry import load_model, read_card
from astroml_core.sim.spectra import CLASSES, simulate_spectra
from astroml_core.tasks.spectra import classify_arrays
from astroml_core.train.spectra import evaluate


@pytest.fixture(scope="module")
def model():
    return load_model("spectra_net", "cpu")


@pytest.fixture(scope="module")
def scores(model):
    return evaluate(model, n_per_class=1000, n_unexpected=500)      # the card's held-out set


def test_macro_accuracy_over_13_classes(scores):
    assert scores["macro_accuracy"] >= 0.95, scores["macro_accuracy"]


@pytest.fixture(scope="module")
def scores_domains(model):
    return evaluate(model, n_per_class=1000, n_unexpected=500, domains=1.0)   # the card's randomised held-out set


def test_probabilities_are_calibrated(scores, scores_domains):
    """One temperature serves spectra from any survey (issue 31), fitted on validation spectra of both domains:
    on the randomised domains it calibrates to ECE 0.017; on the SDSS-like default alone the model is a little
    under-confident (0.032; a temperature fitted to it alone gives 0.008 there and 0.070 on the others), so
    the default domain's bound is 0.035 (it was 0.03 when the model saw only that domain)."""
    assert scores_domains["ece"] <= 0.03, scores_domains["ece"]
    assert scores["ece"] <= 0.035, scores["ece"]


def test_randomised_observing_domains_are_classified(scores_domains):
    assert scores_domains["macro_accuracy"] >= 0.8, scores_domains["macro_accuracy"]
    assert scores_domains["anomaly_auroc"] >= 0.9, scores_domains["anomaly_by_kind"]


def test_unexpected_kinds_score_as_anomalies(scores):
    assert scores["anomaly_auroc"] >= 0.9, scores["anomaly_by_kind"]


def test_confusion_matrix_counts_every_held_out_spectrum(scores):
    cm = scores["confusion"]
    assert cm.shape == (13, 13) and cm.sum() == 13_000 and (cm.sum(axis=1) > 900).all()   # classes drawn at random


def test_classify_outputs_are_consistent(model):
    sim = simulate_spectra(3002, 300)
    r = classify_arrays(sim.flux, sim.ivar, model)
    assert np.allclose(r.probs.sum(axis=1), 1, atol=1e-4)
    assert ((r.uncertainty >= 0) & (r.uncertainty <= 1)).all()
    assert (r.disagreement >= -1e-6).all() and np.isfinite(r.anomaly).all()
    assert r.features.shape == (300, 128) and r.latent.shape == (300, 12)
    right = r.pred_class == sim.label
    assert r.uncertainty[~right].mean() > r.uncertainty[right].mean()       # wrong answers are less sure
    # a batch size does not change the answer
    again = classify_arrays(sim.flux, sim.ivar, model, batch=37)
    assert np.array_equal(again.pred, r.pred) and np.allclose(again.anomaly, r.anomaly, atol=1e-3)


def test_card_states_the_command_hash_and_confusion_matrix():
    front, body = read_card("spectra_net")
    assert front["command"] == "python -m astroml_core.train spectra --domains"      # the shipped build (issue 31)
    assert len(front["weights_sha256"]) == 64
    assert len(front["confusion_matrix"]) == len(CLASSES)
    assert "Confusion matrix" in body and "STAR_K5" in body
