"""The spectra networks' eval-mode fast path (issue 31: 40,000 spectra in ≤ 5 s) computes what the layers as
built compute: the shipped ensemble's probabilities against a plain per-member loop on held-out spectra, the
full ``classify_arrays`` output, gradients for saliency, weights changed after the first call, and the faster
``normalise`` against its plain formula."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from astroml_core.models.spectra_nets import SpectraModel
from astroml_core.registry import load_model
from astroml_core.sim.spectra import simulate_spectra
from astroml_core.tasks.spectra import classify_arrays
from astroml_core.tasks.spectra.preprocess import SIGMA_CLIP, normalise


def _plain_features(trunk, x: torch.Tensor) -> torch.Tensor:
    """A trunk's features from its layers as built (``_layers``: the path training runs), pooled as ``forward``."""
    h = trunk._layers(x)
    return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)


def _plain_probabilities(model, x: torch.Tensor) -> torch.Tensor:
    """The ensemble's mean temperature-scaled softmax, one member after another."""
    t = model.ensemble.temperature
    return torch.stack([torch.softmax(m.head(_plain_features(m.trunk, x)) / t, dim=-1)
                        for m in model.ensemble.members]).mean(dim=0)


def _plain_normalise(flux, ivar):
    valid = ivar > 0
    n = np.maximum(valid.sum(axis=1), 1)
    rms = np.sqrt(np.einsum("ij,ij->i", flux, flux) / n)
    s = np.where(rms > 0, rms, 1.0).astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(valid, 1.0 / (np.sqrt(ivar) * s), SIGMA_CLIP)
    return np.stack([flux / s, np.minimum(sigma, SIGMA_CLIP) / SIGMA_CLIP], axis=-1).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    return load_model("spectra_net", "cpu")


@pytest.fixture(scope="module")
def held_out():
    return simulate_spectra(3002, 600)          # held-out seed, all 13 classes


def test_shipped_probabilities_equal_a_plain_per_member_loop(model, held_out):
    assert not model.training
    x = torch.from_numpy(normalise(held_out.flux, held_out.ivar))
    with torch.inference_mode():
        fast = model.probabilities(x).numpy()
        plain = _plain_probabilities(model, x).numpy()
    assert np.abs(fast - plain).max() <= 1e-5
    assert (fast.argmax(axis=1) == plain.argmax(axis=1)).all()


def test_classify_arrays_agrees_with_the_plain_loop(model, held_out):
    r = classify_arrays(held_out.flux, held_out.ivar, model)
    x = torch.from_numpy(normalise(held_out.flux, held_out.ivar))
    with torch.inference_mode():
        plain = _plain_probabilities(model, x).numpy()
        feats = _plain_features(model.ensemble.members[0].trunk, x).numpy()
    assert np.abs(r.probs - plain).max() <= 1e-5 and (r.pred == plain.argmax(axis=1)).all()
    assert np.allclose(r.features, feats, rtol=1e-5, atol=1e-4)


def test_gradients_for_saliency_equal_the_plain_loop(model, held_out):
    x = torch.from_numpy(normalise(held_out.flux[:8], held_out.ivar[:8]))
    grads = []
    for fn in (model.probabilities, lambda v: _plain_probabilities(model, v)):
        v = x.clone().requires_grad_(True)
        fn(v)[:, 4].sum().backward()
        grads.append(v.grad.numpy())
    assert np.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-6)


def test_the_fast_path_follows_weights_changed_after_a_first_call():
    torch.manual_seed(0)
    net = SpectraModel().eval()
    x = torch.randn(16, 3840, 2)
    with torch.no_grad():
        net.probabilities(x)
        for m in net.modules():               # BatchNorm statistics as if trained: not the identity any more
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        fast, plain = net.probabilities(x), _plain_probabilities(net, x)
        assert torch.allclose(fast, plain, atol=1e-5)
        other = SpectraModel()
        other.load_state_dict(net.state_dict())
        other.ensemble.members[1].trunk.convs[0].weight.mul_(2)
        net.load_state_dict(other.state_dict())
        assert torch.allclose(net.probabilities(x), _plain_probabilities(net, x), atol=1e-5)
        assert not torch.allclose(net.probabilities(x), fast, atol=1e-4)


def test_training_mode_runs_the_layers_as_built():
    torch.manual_seed(1)
    net = SpectraModel().train()
    x = torch.randn(8, 3840, 2)
    torch.manual_seed(2)
    a = net.ensemble.members[0].trunk(x)
    torch.manual_seed(2)
    b = _plain_features(net.ensemble.members[0].trunk, x)
    assert torch.equal(a, b)


def test_normalise_equals_its_plain_formula_with_missing_pixels(held_out):
    flux, ivar = held_out.flux[:32].copy(), held_out.ivar[:32].copy()
    ivar[0, :100] = 0.0
    ivar[1, :50] = -0.0
    ivar[2, :30] = -3.0
    ivar[3, :20] = np.nan
    flux[4], ivar[4] = 0.0, 0.0                 # nothing valid at all
    for f, iv in ((flux, ivar), (flux.astype(np.float64), ivar.astype(np.float64))):
        got = normalise(f, iv)
        assert got.dtype == np.float32 and got.shape == f.shape + (2,)
        assert np.array_equal(got, _plain_normalise(f, iv))
    assert (normalise(flux, ivar)[:5, :20, 1] == 1.0).all()
