"""The lightcone posterior's training pieces on a small synthetic set: stages go on from the last one's
weights, and the flow refit leaves the CNN alone and learns from the fresh set."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from astroml_core.models.inference_nets import LightconeNet
from astroml_core.sim.lightcone import PARAMETERS, LightconeConfig
from astroml_core.train.inference import FitConfig, fit_lightcone, refit_flow
from astroml_core.train.lightcone_sets import LightconeSet


def _synthetic(n: int, seed: int, cells: int = 8) -> LightconeSet:
    """Block moments (``cells`` across) whose mean carries the first parameter (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    grid = LightconeConfig()
    low, high = np.array([p.low for p in PARAMETERS]), np.array([p.high for p in PARAMETERS])
    theta = rng.uniform(low, high, (n, len(PARAMETERS))).astype(np.float32)
    moments = rng.normal(0, 1, (n, 2, cells, cells, grid.n_los // 4))
    moments[:, 0] += ((theta[:, 0] - low[0]) / (high[0] - low[0]))[:, None, None, None] * 3
    return LightconeSet(moments.astype(np.float16), theta, np.zeros((n, grid.n_los), np.float32), grid.z_min)


@pytest.fixture(scope="module")
def trained():
    return fit_lightcone([_synthetic(64, 1), _synthetic(32, 5, cells=12)], [_synthetic(32, 2)],
                         FitConfig(epochs=2, batch=16, seed=0))[0]


def test_a_batch_never_mixes_box_widths():
    from astroml_core.train.inference import _batches
    buckets = [(torch.zeros(10, 1), None), (torch.zeros(7, 2), None)]
    orders = set()
    for seed in range(5):
        batches = _batches(buckets, 4, torch.Generator().manual_seed(seed))
        assert sorted((b, len(i)) for b, i in batches) == [(0, 2), (0, 4), (0, 4), (1, 3), (1, 4)]
        assert all(int(idx.max()) < len(buckets[b][0]) for b, idx in batches)
        orders.add(tuple(b for b, _ in batches))
    assert len(orders) > 1                                      # the buckets' batches are interleaved at random


def test_a_later_stage_starts_from_the_given_weights(trained):
    later, _ = fit_lightcone([_synthetic(64, 1)], [_synthetic(32, 2)], FitConfig(epochs=1, batch=16, lr=1e-12, seed=5),
                             start=trained.state_dict())
    for name, value in trained.state_dict().items():
        if not name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.allclose(value, later.state_dict()[name], atol=1e-6), name


def test_flow_refit_keeps_the_cnn_and_lowers_the_fresh_sets_loss(trained):
    fresh, valid = _synthetic(256, 3), _synthetic(64, 4)
    model = LightconeNet(len(PARAMETERS), LightconeConfig().n_los)
    model.load_state_dict(trained.state_dict())
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def nll(m):
        from astroml_core.models.inference_nets import prior_bounds, to_unit
        low, high = prior_bounds(PARAMETERS)
        with torch.no_grad():
            s = m.embed_moments(torch.from_numpy(valid.moments).float())
            return -m.flow(s).log_prob(to_unit(torch.from_numpy(valid.theta), low, high)).mean().item()

    loss_before = nll(model)
    refit_flow(model, [fresh, _synthetic(64, 6, cells=12)], [valid], FitConfig(epochs=15, batch=64, lr=3e-3, mse_weight=0.0),
               views=2)
    after = model.state_dict()
    assert not model.training
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith("flow."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("flow."))
    assert nll(model) < loss_before


class _GaussianPosterior(torch.nn.Module):
    """Stands in for a LightconeEnsemble: observation = truth + N(0, 1) in logit space, so the exact posterior
    is N(obs / 2, 1/2); it draws with ``sure`` times the exact width (< 1: too sure)."""

    def __init__(self, sure: float):
        super().__init__()
        self.sure = sure
        self.register_buffer("width_scale", torch.ones(len(PARAMETERS)))

    def summaries(self, obs):
        return obs

    def sample_summaries(self, obs, n):
        from astroml_core.models.inference_nets import widened
        return widened(obs[:, None, :] / 2 + self.sure * np.sqrt(0.5) * torch.randn(len(obs), n, obs.shape[1]),
                       self.width_scale)


def _gaussian_set(n: int, seed: int) -> LightconeSet:
    from astroml_core.models.inference_nets import from_unit, prior_bounds
    gen = torch.Generator().manual_seed(seed)
    truth = torch.randn(n, len(PARAMETERS), generator=gen)
    obs = truth + torch.randn(n, len(PARAMETERS), generator=gen)
    theta = from_unit(truth, *prior_bounds(PARAMETERS)).numpy()
    return LightconeSet(obs.numpy(), theta, np.zeros((n, 1), np.float32), 6.0)


@pytest.mark.parametrize("sure, expected", [(0.7, 1 / 0.7), (1.0, 1.0), (1.2, 1 / 1.2)])
def test_width_calibration_widens_a_too_sure_posterior_and_narrows_a_too_wide_one(sure, expected):
    from astroml_core.train.inference import calibrate_widths
    model = _GaussianPosterior(sure)
    scale = calibrate_widths(model, [_gaussian_set(1500, 7)], n_samples=400)
    assert scale.numpy() == pytest.approx(expected, abs=0.12)
    assert torch.equal(model.width_scale, scale)


def test_width_scale_widens_the_ensembles_draws_about_their_mean():
    from astroml_core.models.inference_nets import LightconeEnsemble
    model = LightconeEnsemble(1).eval()
    moments = torch.from_numpy(_synthetic(2, 5).moments).float()
    draws = []
    for scale in (1.0, 2.0):
        model.width_scale.fill_(scale)
        torch.manual_seed(3)
        with torch.no_grad():
            draws.append(model.sample_summaries(model.summaries(moments), 500))
    assert draws[0].shape == (2, 500, len(PARAMETERS))
    assert torch.allclose(draws[1].mean(dim=1), draws[0].mean(dim=1), atol=1e-4)
    assert torch.allclose(draws[1].std(dim=1), 2 * draws[0].std(dim=1), rtol=1e-3)
