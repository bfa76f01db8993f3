"""The deblender's training pieces, without training: the learning-rate schedule and the batch stream."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.train.deblend import CLOSE_PX, TrainConfig, _Batches, _detector_field, _Schedule, simulate_fields


def test_schedule_warms_up_holds_then_anneals_to_zero_on_the_last_step():
    schedule = _Schedule(1.0, budget_s=0, steps=1000)
    lr = [schedule(k) for k in range(1, 1001)]
    assert lr[0] == pytest.approx(0.02) and lr[49] == 1.0 and lr[149] == 1.0     # warm-up, then the full rate
    assert np.all(np.diff(lr[150:]) <= 0) and lr[-1] == pytest.approx(0.0)
    assert not schedule.done(999) and schedule.done(1000)


def test_budget_schedule_fixes_its_step_count_from_the_pace():
    schedule = _Schedule(1.0, budget_s=0.0)
    for k in range(1, 151):
        schedule(k)
    assert schedule.steps == 151 and schedule.done(151)      # no time left: it ends at once


@pytest.fixture(scope="module")
def stream():
    return _Batches(simulate_fields(6, 5.0, processes=1), TrainConfig(batch=8))


def test_batches_have_the_networks_shapes_and_finite_targets(stream):
    det_x, det_y, x, y = stream.batch(0)
    assert det_x.shape == (2, 4, 64, 64) and det_y.shape == (2, 1, 64, 64)
    assert x.shape == (8, 6, 64, 64) and y.shape == (8, 4, 64, 64)
    assert all(t.dtype.is_floating_point and bool(t.isfinite().all()) for t in (det_x, det_y, x, y))
    assert float(y.sum()) > 0 and float(x[:, 4].amax()) == pytest.approx(1.0, abs=0.05)   # a marker at the centre


def test_batch_b_is_the_same_whoever_draws_it(stream):
    first, again, other = stream.batch(3), stream.batch(3), stream.batch(4)
    assert all(bool((a == b).all()) for a, b in zip(first, again))
    assert not bool((first[2] == other[2]).all())


def test_detector_only_batches_are_all_detector_examples_with_the_stage_heat_width():
    fields = simulate_fields(8, 5.0, processes=1, heat_sigma=0.8)
    batch = _Batches(fields, TrainConfig(batch=6, detector_only=True, heat_sigma=0.8)).batch(0)
    assert len(batch) == 2 and batch[0].shape == (6, 4, 64, 64) and batch[1].shape == (6, 1, 64, 64)
    wide = simulate_fields(8, 5.0, processes=1)
    assert fields.heat.astype(float).sum() < 0.6 * wide.heat.astype(float).sum()   # area ∝ σ²: (0.8 / 1.2)² ≈ 0.44


def test_close_share_draws_detector_fields_with_a_close_pair():
    fields = simulate_fields(40, 5.0, processes=1)
    close = set(np.flatnonzero(fields.closest < CLOSE_PX).tolist())
    assert 0 < len(close) < 40
    rng = np.random.default_rng(0)
    assert {_detector_field(fields, rng, 1.0) for _ in range(50)} <= close
    assert not {_detector_field(fields, rng, 0.0) for _ in range(200)} <= close


def test_true_shape_masks_are_the_truth_when_every_galaxy_is_found_and_lose_a_missed_one():
    """The card's "true shapes" masks: with every galaxy found they are the true segmentation relabelled
    to the catalogue's rows; a galaxy left out has no mask and its light goes to its neighbours or the sky."""
    from astropy.table import QTable

    from astroml_core.metrics.deblend import truth_segmentation
    from astroml_core.sim.blends import BlendConfig, simulate_blends
    from astroml_core.train.deblend import true_shape_segmap

    sim = simulate_blends(2000, BlendConfig())
    sigma = np.asarray(sim.config.sky_sigma, np.float32)
    det = (sim.isolated / sigma[None, :, None, None]).sum(axis=1)
    threshold = 1.5 * np.sqrt(len(sigma))
    truth_seg = truth_segmentation(det, threshold)
    order = np.arange(len(sim.truth))[::-1]                      # the catalogue lists them in another order
    found = QTable(dict(x=np.asarray(sim.truth["x"])[order], y=np.asarray(sim.truth["y"])[order]))
    seg = true_shape_segmap(det, sim.truth, found, threshold)
    for row, t in enumerate(order):
        assert np.array_equal(seg == row + 1, truth_seg == t + 1)
    seg = true_shape_segmap(det, sim.truth, found[1:], threshold)
    rest = truth_segmentation(det[order[1:]], threshold)          # the others alone, labelled as found[1:]
    assert np.array_equal(seg, rest) and seg.max() == len(order) - 1
    assert (seg[truth_seg == order[0] + 1] != 0).any()            # the missed galaxy's pixels go to neighbours
