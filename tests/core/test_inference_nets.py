"""Contract of the posterior networks (as zuko/sbi test theirs): shapes, samples inside the prior box,
gradients reaching the summary network, and a save/load round trip that keeps the outputs."""
from __future__ import annotations

import io

import pytest
import torch

from astroml_core.models.inference_nets import (N_LOS, BlockMoments, GalaxyNet, LightconeEnsemble, LightconeNet,
                                               SidePeriodicConv3d, from_unit, to_unit)


def _nets():
    return [("lightcone", LightconeNet(), torch.randn(2, 16, 16, N_LOS) * 20),
            ("galaxy", GalaxyNet(11, 6), torch.randn(2, 11))]


@pytest.mark.parametrize("name,net,x", _nets(), ids=["lightcone", "galaxy"])
def test_posterior_net_contract(name, net, x):
    torch.manual_seed(0)
    net.eval()
    z_true = torch.randn(2, 6)
    s = net.embed(x)
    loss = -net.flow(s).log_prob(z_true).mean() + ((net.mean_head(s) - z_true) ** 2).mean()
    loss.backward()
    first = next(net.parameters())
    assert first.grad is not None and torch.isfinite(first.grad).all()
    with torch.no_grad():
        samples = net.flow(net.embed(x)[0]).sample((500,))
    assert samples.shape == (500, 6)
    low, high = torch.zeros(6), torch.ones(6) * 3
    theta = from_unit(samples, low, high)
    assert ((theta >= low) & (theta <= high)).all()
    torch.testing.assert_close(to_unit(from_unit(samples[:5], low, high), low, high), samples[:5], atol=1e-3, rtol=1e-3)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    buf.seek(0)
    twin = type(net)() if name == "lightcone" else GalaxyNet(11, 6)
    twin.load_state_dict(torch.load(buf, weights_only=True))
    twin.eval()
    with torch.no_grad():
        torch.testing.assert_close(twin.embed(x), net.embed(x))


def test_the_cnn_sees_a_periodic_box_tiled_or_rolled_alike_and_the_summary_is_told_the_width():
    torch.manual_seed(1)
    net = LightconeNet().eval()
    tb = torch.randn(1, 16, 16, N_LOS) * 20

    def features(x):
        return net.features(net.moments(x)).mean(dim=(2, 3))

    with torch.no_grad():
        ref = features(tb)
        for other in (tb.repeat(1, 2, 3, 1), torch.roll(tb, (8, -24), dims=(1, 2))):   # rolls by whole strides
            torch.testing.assert_close(features(other), ref, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(net.embed(torch.roll(tb, (8, -24), dims=(1, 2))), net.embed(tb), atol=1e-5, rtol=1e-4)
        # the same sky in a box twice as wide is told apart only by the width the summary is given: not at all
        # by a new network (its width column starts at zero), and once that column is trained, by it alone
        torch.testing.assert_close(net.embed(tb.repeat(1, 2, 2, 1)), net.embed(tb), atol=1e-5, rtol=1e-4)
        net.summary[1].weight[:, -1] = 0.5
        assert (net.embed(tb.repeat(1, 2, 2, 1)) - net.embed(tb)).abs().max() > 1e-3


def test_the_convolution_wraps_the_sky_but_not_the_line_of_sight():
    conv = SidePeriodicConv3d(1, 1, 1)
    torch.nn.init.ones_(conv.weight)
    torch.nn.init.zeros_(conv.bias)
    x = torch.zeros(1, 1, 6, 6, 6)
    x[0, 0, 0, 0, 0] = 1.0                                  # a corner cell
    with torch.no_grad():
        y = conv(x)[0, 0]
    assert y.shape == (6, 6, 6)
    assert y[-1, -1, 0] == 1.0 and y[-1, 1, 1] == 1.0       # seen across both transverse edges
    assert y[0, 0, -1] == 0.0                               # not across the line of sight's ends (other redshifts)


def test_block_moments_are_block_mean_and_rms():
    tb = torch.zeros(1, 2, 2, 4)
    tb[0, 0, 0, 0] = 30.0                                  # one bright cell in a 2×2×4 block of 16
    m = BlockMoments()(tb)
    assert m.shape == (1, 2, 1, 1, 1)
    assert m[0, 0].item() == pytest.approx(1 / 16)
    assert m[0, 1].item() == pytest.approx((1 / 16 - 1 / 256) ** 0.5)


def test_the_ensemble_mixes_equal_shares_of_its_members():
    class Constant(torch.nn.Module):                           # a "flow" that always draws its member's number
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, summary):
            return self

        def sample(self, shape):
            return torch.full((*shape, 2, 6), float(self.k))

    ens = LightconeEnsemble(members=3).eval()
    for k, member in enumerate(ens.members):
        member.flow = Constant(k)
    with torch.no_grad():
        samples = ens.sample(torch.randn(2, 16, 16, N_LOS) * 20, 999)
    assert samples.shape == (2, 999, 6)
    counts = torch.bincount(samples[0, :, 0].long(), minlength=3)
    assert counts.tolist() == [333, 333, 333]
