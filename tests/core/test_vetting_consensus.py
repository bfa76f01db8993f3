"""Dawid–Skene weighs voters by how reliable they are: it beats the plain majority when some are careless."""
from __future__ import annotations

import numpy as np

from astroml_core.vetting import dawid_skene, majority


def _votes(seed: int, n_items: int = 300):
    """5 careful voters (92% right), 4 careless ones (55% right), each voting on every item."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n_items)
    acc = np.array([0.92] * 5 + [0.55] * 4)
    items, voters, labels = [], [], []
    for i in range(n_items):
        for j, a in enumerate(acc):
            items.append(i), voters.append(j), labels.append(truth[i] if rng.random() < a else 1 - truth[i])
    return truth, np.array(items), np.array(voters), np.array(labels)


def test_dawid_skene_beats_majority_with_careless_voters():
    truth, items, voters, labels = _votes(3)
    ds = dawid_skene(items, voters, labels, len(truth), 2)
    maj = majority(items, labels, len(truth), 2)
    acc_ds, acc_maj = (ds.label == truth).mean(), (maj.label == truth).mean()
    assert acc_ds > acc_maj + 0.02 and acc_ds > 0.97


def test_dawid_skene_probabilities_are_calibrated_enough():
    truth, items, voters, labels = _votes(4)
    ds = dawid_skene(items, voters, labels, len(truth), 2)
    sure = ds.probability > 0.99
    assert sure.mean() > 0.7 and (ds.label[sure] == truth[sure]).mean() > 0.98


def test_items_without_votes_get_no_label():
    ds = dawid_skene(np.array([0, 0]), np.array([0, 1]), np.array([1, 1]), 3, 2)
    assert ds.label.tolist() == [1, -1, -1]
    assert majority(np.array([0]), np.array([1]), 2, 2).label.tolist() == [1, -1]
