"""Fit the two posterior networks: lightcone (3-D CNN + flow) and one galaxy (MLP + flow).

Both minimise the flow's negative log posterior of the true parameters (in logit space) plus the
squared error of a posterior-mean head; the state with the best validation loss is kept. Lightcones are
augmented with the symmetries of the periodic box (transverse rolls, flips, transposes).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..models.inference_nets import GalaxyNet, LightconeEnsemble, LightconeNet, prior_bounds, to_unit, widened
from ..service.device import choose_device
from ..sim.galaxies import GALAXY_PARAMETERS, PROPERTIES, sample_galaxy_prior, simulate_galaxies
from ..sim.lightcone import PARAMETERS
from .lightcone_sets import LightconeSet

__all__ = ["FitConfig", "fit_lightcone", "refit_flow", "calibrate_widths", "fit_galaxy", "galaxy_set",
           "GALAXY_TRAIN_SEED", "GALAXY_VALID_SEED", "GALAXY_HELD_OUT_SEED"]

GALAXY_TRAIN_SEED, GALAXY_VALID_SEED, GALAXY_HELD_OUT_SEED = 51, 52, 5_000


@dataclass(frozen=True)
class FitConfig:
    """Schedule of one fit."""

    epochs: int = 30
    batch: int = 32
    lr: float = 2e-3
    mse_weight: float = 1.0
    seed: int = 0


def _augment(m: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A random symmetry of the periodic box on a batch of block moments (B, C, X, Y, L)."""
    sx, sy = (int(v) for v in torch.randint(0, m.shape[2], (2,), generator=gen))
    m = torch.roll(m, (sx, sy), dims=(2, 3))
    flips = [d for d, f in zip((2, 3), torch.rand(2, generator=gen) < 0.5) if f]
    if flips:
        m = torch.flip(m, flips)
    if torch.rand(1, generator=gen) < 0.5:
        m = m.transpose(2, 3)
    return m


def _loss(model, summary: torch.Tensor, z: torch.Tensor, cfg: FitConfig) -> torch.Tensor:
    nll = -model.flow(summary).log_prob(z).mean()
    return nll + cfg.mse_weight * ((model.mean_head(summary) - z) ** 2).mean() if cfg.mse_weight else nll


def _fit(model, embed: Callable, x: torch.Tensor, z: torch.Tensor, x_val: torch.Tensor, z_val: torch.Tensor,
         cfg: FitConfig, augment: Callable | None, progress: Callable) -> tuple[object, list[float]]:
    """Shared loop: AdamW, one-cycle schedule, best-validation state; on the GPU when there is one (the
    data move there whole), and the model comes back on the CPU."""
    device = choose_device()
    model.to(device)
    x, z, x_val, z_val = (t.to(device) for t in (x, z, x_val, z_val))
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs * math.ceil(len(x) / cfg.batch)
    # warm-up over 10 % of the steps, at least 2 (torch divides by zero when the warm-up is exactly one step)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=max(0.1, 2 / steps))
    best, best_state, history = float("inf"), None, []
    for epoch in range(cfg.epochs):
        model.train()
        started = time.time()
        for idx in torch.randperm(len(x), generator=gen).split(cfg.batch):
            idx = idx.to(device)
            xb = x[idx].float()
            if augment is not None:
                xb = augment(xb, gen)
            loss = _loss(model, embed(xb), z[idx], cfg)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            val = float(np.mean([_loss(model, embed(xv.float()), zv, cfg).item()
                                 for xv, zv in zip(x_val.split(256), z_val.split(256))]))
        history.append(val)
        if val < best:
            best, best_state = val, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        progress((epoch + 1) / cfg.epochs, f"epoch {epoch + 1}/{cfg.epochs}: validation loss {val:.3f} "
                                           f"({time.time() - started:.0f} s)")
    model.cpu().load_state_dict(best_state)
    return model.eval(), history


def fit_lightcone(train: LightconeSet, valid: LightconeSet, cfg: FitConfig = FitConfig(),
                  progress: Callable = lambda f, m: None, start: dict | None = None) -> tuple[LightconeNet, list[float]]:
    """Train :class:`LightconeNet` on block moments, from scratch or on from the state dict ``start`` (a later
    stage of a schedule); returns (model in eval mode, validation losses)."""
    torch.manual_seed(cfg.seed)
    model = LightconeNet(n_params=len(PARAMETERS), n_los=train.moments.shape[-1] * 4)
    if start is not None:
        model.load_state_dict(start)
    low, high = prior_bounds(PARAMETERS)
    x, x_val = torch.from_numpy(train.moments), torch.from_numpy(valid.moments)
    z = to_unit(torch.from_numpy(train.theta), low, high)
    z_val = to_unit(torch.from_numpy(valid.theta), low, high)
    return _fit(model, model.embed_moments, x, z, x_val, z_val, cfg, _augment, progress)


def _summaries(model: LightconeNet, moments: np.ndarray, views: int, gen: torch.Generator) -> torch.Tensor:
    """(views·n, summary) of block moments: the first view as given, the others under random box symmetries."""
    out = []
    with torch.no_grad():
        for view in range(views):
            out.append(torch.cat([model.embed_moments(m.float() if view == 0 else _augment(m.float(), gen))
                                  for m in torch.from_numpy(moments).split(64)]))
    return torch.cat(out)


def refit_flow(model: LightconeNet, fresh: LightconeSet, valid: LightconeSet, cfg: FitConfig, views: int = 4,
               progress: Callable = lambda f, m: None) -> LightconeNet:
    """Fit ``model``'s flow again, its CNN frozen, on the summaries of lightcones the CNN never trained on.

    On its own training set a CNN's summaries are sharper than on new lightcones, so a flow fitted
    beside it learns widths that are wrong on new data (too narrow where the CNN overfits, too wide where
    training stopped early); fitted on fresh simulations it learns p(θ | summary) as it will be used."""
    model.eval()
    gen = torch.Generator().manual_seed(cfg.seed)
    low, high = prior_bounds(PARAMETERS)
    x = _summaries(model, fresh.moments, views, gen)
    z = to_unit(torch.from_numpy(fresh.theta), low, high).repeat(views, 1)
    x_val = _summaries(model, valid.moments, 1, gen)
    z_val = to_unit(torch.from_numpy(valid.theta), low, high)
    _fit(torch.nn.ModuleDict({"flow": model.flow}), lambda s: s, x, z, x_val, z_val, cfg, None, progress)
    return model.eval()


def _interval_coverage_error(z: torch.Tensor, truth: torch.Tensor, scale: float) -> float:
    """Mean squared gap between claimed and actual coverage of central intervals (5–95 %) of one
    parameter's draws ``z`` (B, n) widened by ``scale`` about their mean, against ``truth`` (B,)."""
    rank = (widened(z, scale) < truth[:, None]).float().mean(dim=1)
    level = torch.linspace(0.05, 0.95, 19)
    held = ((rank[:, None] - 0.5).abs() <= level[None] / 2).float().mean(dim=0)
    return float(((held - level) ** 2).mean())


def calibrate_widths(model: LightconeEnsemble, calibration: LightconeSet, n_samples: int = 1000,
                     scales=tuple(np.arange(0.8, 2.0001, 0.025)), seed: int = 0) -> torch.Tensor:
    """Set ``model.width_scale``: per parameter, the scaling of the draws (logit space, about their mean)
    whose central intervals hold the truth of fresh lightcones as often as they claim.

    A refitted flow can still be too sure where the CNN's summary is sharp (L_X, E0: 68 % intervals held
    the truth ~60 % of the time) or too wide (ζ: 75 %); one factor per parameter trades the 5–95 % levels
    off together, so a flow whose core is too wide but whose tails are right is narrowed only part way.
    The calibration lightcones must be new to both the CNN and the flow."""
    model.eval()
    model.width_scale.fill_(1.0)
    low, high = prior_bounds(PARAMETERS)
    truth = to_unit(torch.from_numpy(calibration.theta), low, high)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        z = torch.cat([model.sample_summaries(model.summaries(m.float()), n_samples)
                       for m in torch.from_numpy(calibration.moments).split(50)])
    best = [min(scales, key=lambda s: _interval_coverage_error(z[..., j], truth[:, j], s))
            for j in range(len(PARAMETERS))]
    model.width_scale.copy_(torch.tensor(best, dtype=torch.float32))
    return model.width_scale


def galaxy_set(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(parameters (n, 6), log properties (n, 11)) of ``n`` galaxies, one universe each."""
    theta = sample_galaxy_prior(n, np.random.default_rng(seed))
    return theta.astype(np.float32), simulate_galaxies(theta, seed=seed + 1).astype(np.float32)


def fit_galaxy(n_train: int = 200_000, n_valid: int = 20_000, cfg: FitConfig = FitConfig(epochs=25, batch=512),
               progress: Callable = lambda f, m: None) -> tuple[GalaxyNet, list[float]]:
    """Train :class:`GalaxyNet` on galaxies drawn from the prior; returns (model, validation losses)."""
    torch.manual_seed(cfg.seed)
    theta, props = galaxy_set(n_train, GALAXY_TRAIN_SEED)
    theta_val, props_val = galaxy_set(n_valid, GALAXY_VALID_SEED)
    model = GalaxyNet(len(PROPERTIES), len(GALAXY_PARAMETERS))
    model.set_scaling(torch.from_numpy(props.mean(axis=0)), torch.from_numpy(props.std(axis=0)))
    low, high = prior_bounds(GALAXY_PARAMETERS)
    return _fit(model, model.embed, torch.from_numpy(props), to_unit(torch.from_numpy(theta), low, high),
                torch.from_numpy(props_val), to_unit(torch.from_numpy(theta_val), low, high), cfg, None, progress)
