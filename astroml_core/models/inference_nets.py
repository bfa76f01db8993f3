"""Posterior networks: a 3-D CNN summary of a 21 cm lightcone and an MLP summary of one galaxy's
properties, each conditioning a neural spline flow (zuko) over the parameters in logit space.

Parameters are min-max scaled to (0, 1) over the prior and passed through a logit, so every posterior
sample lands inside the prior box. A regression head on the summary (the posterior-mean estimate) is
trained beside the flow: it gives R² directly and steadies the summary network early in training.
"""
from __future__ import annotations

import math

import torch
import zuko
from torch import nn

from ..sim.lightcone import LightconeConfig
from .protocol import Carded

N_LOS = LightconeConfig().n_los     # slices of the model's grid (4 Mpc cells from z = 6)
CELL_MPC = LightconeConfig().cell_mpc
TRAIN_WIDTH_MPC = LightconeConfig().n_cells * CELL_MPC

__all__ = ["BlockMoments", "SidePeriodicConv3d", "LightconeNet", "LightconeEnsemble", "GalaxyNet", "prior_bounds", "to_unit", "from_unit",
           "widened"]

EPS = 1e-4


def prior_bounds(params, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high) float32 tensors of a parameter list's uniform prior."""
    return (torch.tensor([p.low for p in params], dtype=torch.float32, device=device),
            torch.tensor([p.high for p in params], dtype=torch.float32, device=device))


def to_unit(theta: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Parameters → logit of their position in the prior box."""
    u = ((theta - low) / (high - low)).clamp(EPS, 1 - EPS)
    return torch.log(u) - torch.log1p(-u)


def from_unit(z: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_unit`."""
    return low + (high - low) * torch.sigmoid(z)


def widened(z: torch.Tensor, scale) -> torch.Tensor:
    """Draws (B, n, …) spread ``scale`` times as far from their mean over the n draws (a width calibration;
    ``scale`` < 1 draws them in)."""
    mean = z.mean(dim=1, keepdim=True)
    return mean + scale * (z - mean)


class BlockMoments(nn.Module):
    """Fixed first layer: mean and rms of δT_b (scaled by 30 mK) in blocks of 2 × 2 cells × 4 slices.

    Coarse-graining first is what makes a 100 MB lightcone cost milliseconds; the rms keeps the
    bubble-scale contrast that a plain average would erase."""

    block = (2, 2, 4)

    def forward(self, tb: torch.Tensor) -> torch.Tensor:  # (B, X, Y, L) mK → (B, 2, X/2, Y/2, L/4)
        x = tb.unsqueeze(1) / 30.0
        mean = nn.functional.avg_pool3d(x, self.block)
        second = nn.functional.avg_pool3d(x * x, self.block)
        return torch.cat([mean, (second - mean * mean).clamp_min(0).sqrt()], dim=1)


class SidePeriodicConv3d(nn.Conv3d):
    """3 × 3 × 3 convolution that wraps the transverse axes and zero-pads the line of sight.

    A simulated box is periodic across the sky, so wrapping makes every transverse cell alike: the
    transverse average then means the same over a box of any width (with zero padding the edge cells,
    3/4 of a 128 Mpc box's last layer, saw a border that a wider box mostly lacks)."""

    def __init__(self, cin: int, cout: int, stride):
        super().__init__(cin, cout, 3, stride=stride, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.pad(nn.functional.pad(x, (0, 0, 1, 1, 1, 1), mode="circular"), (1, 1))
        return self._conv_forward(x, self.weight, self.bias)


def _conv(cin: int, cout: int, stride) -> nn.Sequential:
    return nn.Sequential(SidePeriodicConv3d(cin, cout, stride), nn.BatchNorm3d(cout), nn.GELU())


class LightconeNet(nn.Module):
    """Lightcone (B, X, Y, n_los) in mK on 4 Mpc cells from z = 6 → summary, mean estimate and flow.

    Transverse axes are averaged after the convolutions (any box width works); the line of sight keeps
    its order, because where along it (at which redshift) a feature sits is the information. ``mean_head(embed(x))`` is the posterior-mean estimate (logit space)."""

    def __init__(self, n_params: int = 6, n_los: int = N_LOS, summary: int = 48):
        super().__init__()
        self.moments = BlockMoments()
        self.features = nn.Sequential(_conv(2, 16, 2), _conv(16, 32, 2), _conv(32, 48, 1), _conv(48, 64, (1, 1, 2)))
        los = n_los // 4 // 8
        self.summary = nn.Sequential(nn.Flatten(), nn.Linear(64 * los + 1, 128), nn.GELU(), nn.Linear(128, summary))
        with torch.no_grad():           # the width column starts at zero: until trained on other widths, none counts
            self.summary[1].weight[:, -1] = 0.0
        self.mean_head = nn.Linear(summary, n_params)
        self.flow = zuko.flows.NSF(features=n_params, context=summary, transforms=4, hidden_features=[96, 96], passes=2)

    def embed_moments(self, moments: torch.Tensor) -> torch.Tensor:
        """Summary vector from :class:`BlockMoments` output (training stores moments, not lightcones).

        The box width (read from the moments' shape) joins the transverse average as log2(width / 128 Mpc):
        the simulated sky itself changes with the box (modes longer than a small box are missing)."""
        feats = self.features(moments).mean(dim=(2, 3)).flatten(1)
        width = (moments.shape[2] * moments.shape[3]) ** 0.5 * BlockMoments.block[0] * CELL_MPC
        log_width = feats.new_full((len(feats), 1), math.log2(width / TRAIN_WIDTH_MPC))
        return self.summary(torch.cat([feats, log_width], dim=1))

    def embed(self, tb: torch.Tensor) -> torch.Tensor:
        """Summary vector of each lightcone."""
        return self.embed_moments(self.moments(tb))


class GalaxyNet(nn.Module, Carded):
    """Standardised log properties of one galaxy → summary, mean estimate and flow over the parameters."""

    def __init__(self, n_properties: int, n_params: int, summary: int = 32):
        super().__init__()
        self.summary = nn.Sequential(nn.Linear(n_properties, 128), nn.GELU(), nn.Linear(128, 128), nn.GELU(),
                                     nn.Linear(128, summary))
        self.mean_head = nn.Linear(summary, n_params)
        self.flow = zuko.flows.NSF(features=n_params, context=summary, transforms=4, hidden_features=[64, 64], passes=2)
        self.register_buffer("x_mean", torch.zeros(n_properties))
        self.register_buffer("x_std", torch.ones(n_properties))

    def set_scaling(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Standardisation of the log properties, kept in the weights file."""
        self.x_mean.copy_(mean)
        self.x_std.copy_(std)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Summary vector of each galaxy (x: log10 properties, unscaled)."""
        return self.summary((x - self.x_mean) / self.x_std)

    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """(posterior-mean estimate (B, n_params) in logit space,) of log10 properties (B, n_properties)."""
        return (self.mean_head(self.embed(x)),)


# members of the shipped lightcone posterior: one since the flow is refitted on fresh lightcones; an equal
# mixture of three such members came out too wide (68 % coverage 0.83 / 0.86 for Ω_m / ζ on held-out lightcones)
N_MEMBERS = 1
MIN_DRAWS = 256


class LightconeEnsemble(nn.Module, Carded):
    """Several :class:`LightconeNet` trained from different seeds; the posterior is their equal mixture.

    A mixture of independently trained flows covers what any one of them misses (a deep ensemble for
    posteriors); each member sees the same block moments, so the cost is one CNN pass per member."""

    def __init__(self, members: int = N_MEMBERS, n_params: int = 6, n_los: int = N_LOS):
        super().__init__()
        self.members = nn.ModuleList(LightconeNet(n_params, n_los) for _ in range(members))
        # per-parameter scaling of the draws about their mean in logit space, fitted on fresh lightcones
        # after the flows (see train.inference.calibrate_widths)
        self.register_buffer("width_scale", torch.ones(n_params))

    def summaries(self, moments: torch.Tensor) -> list[torch.Tensor]:
        """Each member's summary of block moments (B, 2, X/2, Y/2, L/4)."""
        return [m.embed_moments(moments) for m in self.members]

    def sample_summaries(self, summaries: list[torch.Tensor], n: int) -> torch.Tensor:
        """(B, n, n_params) logit-space samples, an equal share from each member's flow, widened by
        ``width_scale`` about the mean of at least ``MIN_DRAWS`` draws (so a few samples are widened alike)."""
        drawn = max(n, MIN_DRAWS)
        per = -(-drawn // len(self.members))
        parts = [m.flow(s).sample((per,)) for m, s in zip(self.members, summaries)]   # each (per, B, P)
        z = torch.cat(parts)[:drawn].transpose(0, 1)
        keep = torch.linspace(0, drawn - 1, n, device=z.device).long()      # spread over the members' shares
        return widened(z, self.width_scale)[:, keep]

    def sample(self, tb: torch.Tensor, n: int) -> torch.Tensor:
        """(B, n, n_params) logit-space posterior samples for lightcones (B, X, Y, n_los) in mK."""
        return self.sample_summaries(self.summaries(self.members[0].moments(tb)), n)

    def predict(self, tb: torch.Tensor) -> tuple[torch.Tensor]:
        """(the members' mean posterior-mean estimate (B, n_params) in logit space,) of lightcones in mK."""
        summaries = self.summaries(self.members[0].moments(tb))
        return (torch.stack([m.mean_head(s) for m, s in zip(self.members, summaries)]).mean(dim=0),)
