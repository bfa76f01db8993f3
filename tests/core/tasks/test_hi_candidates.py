"""Smooth-and-clip candidates of both signs are treated alike: a source found in a cube is found, with the
same statistics, as a negative candidate in the negated cube; and cutout scores follow the candidates."""
from __future__ import annotations

import numpy as np

from astroml_core.tasks.hi.candidates import find_candidates, network_scores
from astroml_core.tasks.hi.smooth_clip import smooth_and_clip


def _cube_with_a_source(sign: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(5)
    cube = rng.normal(size=(64, 48, 48)).astype(np.float32)
    c, y, x = np.ogrid[:64, :48, :48]
    cube += sign * 3.0 * np.exp(-((c - 30) ** 2 / 50 + ((y - 20) ** 2 + (x - 25) ** 2) / 8)).astype(np.float32)
    return cube


def test_a_source_is_a_positive_candidate_and_its_negation_a_negative_one_with_the_same_statistics():
    up, down = _cube_with_a_source(1.0), -_cube_with_a_source(1.0)
    pos_up, _ = smooth_and_clip(up, 2.5)
    _, neg_down = smooth_and_clip(down, 2.5)
    a = find_candidates(up, pos_up, 1.0, 7.0)
    b = find_candidates(down, neg_down, -1.0, 7.0)
    assert a.n >= 1 and a.n == b.n
    k = int(np.argmax(a.snr))
    assert abs(a.centre[k][0] - 30) <= 3 and abs(a.centre[k][1] - 20) <= 2 and abs(a.centre[k][2] - 25) <= 2
    np.testing.assert_allclose(np.sort(a.snr), np.sort(b.snr))
    np.testing.assert_allclose(np.sort(a.peak), np.sort(b.peak))
    assert a.snr[k] > 5


def test_candidates_below_the_snr_floor_are_dropped_and_labels_renumbered():
    cube = _cube_with_a_source()
    pos, _ = smooth_and_clip(cube, 2.5)
    every = find_candidates(cube, pos, 1.0, 7.0, min_snr=-np.inf)
    strong = find_candidates(cube, pos, 1.0, 7.0, min_snr=10.0)
    assert strong.n < every.n or every.n == 1
    assert (strong.snr >= 10).all()
    assert set(np.unique(strong.labels)) == set(range(strong.n + 1))


def test_network_scores_one_per_candidate_from_the_shipped_network():
    from astroml_core.registry import load_model

    cube = _cube_with_a_source()
    pos, _ = smooth_and_clip(cube, 2.5)
    cands = find_candidates(cube, pos, 1.0, 7.0)
    scores = network_scores(load_model("hi_unet", "cpu"), cube, cands)
    assert scores.shape == (cands.n,) and np.all((scores >= 0) & (scores <= 1))


def test_accepted_pieces_close_together_merge_and_the_rest_stay_apart():
    from astroml_core.tasks.hi.model import merge_parts

    labels = np.zeros((60, 20, 20), np.int32)
    labels[10:14, 5:8, 5:8] = 1          # one horn
    labels[24:28, 5:8, 6:9] = 2          # the other horn, 10 channels on: the same source
    labels[50:54, 15:18, 15:18] = 3      # far away: its own source
    labels[30:33, 5:8, 5:8] = 4          # close, but below the threshold: not merged
    merged, parts = merge_parts(labels, np.array([True, True, True, False]), 16, 1)
    assert [list(p) for p in parts] == [[0, 1], [2], [3]]
    assert set(np.unique(merged[labels == 1])) == set(np.unique(merged[labels == 2])) == {1}
    assert set(np.unique(merged[labels == 3])) == {2} and set(np.unique(merged[labels == 4])) == {3}
    assert (merged[labels == 0] == 0).all()
