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


Buckets = list[tuple[torch.Tensor, torch.Tensor]]


def _batches(train: Buckets, batch: int, gen: torch.Generator) -> list[tuple[int, torch.Tensor]]:
    """One epoch's (bucket, indices) batches in random order; a batch never mixes buckets (box widths)."""
    out = [(b, idx) for b, (x, _) in enumerate(train) for idx in torch.randperm(len(x), generator=gen).split(batch)]
    return [out[i] for i in torch.randperm(len(out), generator=gen)]


def _fit(model, embed: Callable, train: Buckets, valid: Buckets, cfg: FitConfig, augment: Callable | None,
         progress: Callable) -> tuple[object, list[float]]:
    """Shared loop over buckets of (inputs, targets): AdamW, one-cycle schedule, best-validation state; on the
    GPU when there is one (the data move there whole), and the model comes back on the CPU."""
    device = choose_device()
    model.to(device)
    train, valid = ([(x.to(device), z.to(device)) for x, z in part] for part in (train, valid))
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs * sum(math.ceil(len(x) / cfg.batch) for x, _ in train)
    # warm-up over 10 % of the steps, at least 2 (torch divides by zero when the warm-up is exactly one step)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=max(0.1, 2 / steps))
    best, best_state, history = float("inf"), None, []
    for epoch in range(cfg.epochs):
        model.train()
        started = time.time()
        for b, idx in _batches(train, cfg.batch, gen):
            x, z = train[b]
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
                                 for x_val, z_val in valid for xv, zv in zip(x_val.split(256), z_val.split(256))]))
        history.append(val)
        if val < best:
            best, best_state = val, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        progress((epoch + 1) / cfg.epochs, f"epoch {epoch + 1}/{cfg.epochs}: validation loss {val:.3f} "
                                           f"({time.time() - started:.0f} s)")
    model.cpu().load_state_dict(best_state)
    return model.eval(), history


def _buckets(sets: list[LightconeSet]) -> Buckets:
    """(block moments, logit-space parameters) per set: sets of different box widths stay apart."""
    low, high = prior_bounds(PARAMETERS)
    return [(torch.from_numpy(s.moments), to_unit(torch.from_numpy(s.theta), low, high)) for s in sets]


def fit_lightcone(train: list[LightconeSet], valid: list[LightconeSet], cfg: FitConfig = FitConfig(),
                  progress: Callable = lambda f, m: None, start: dict | None = None) -> tuple[LightconeNet, list[float]]:
    """Train :class:`LightconeNet` on block moments of sets (one box width each), from scratch or on from
    the state dict ``start`` (a later stage of a schedule); returns (model in eval mode, validation losses)."""
    torch.manual_seed(cfg.seed)
    model = LightconeNet(n_params=len(PARAMETERS), n_los=train[0].moments.shape[-1] * 4)
    if start is not None:
        model.load_state_dict(start)
    return _fit(model, model.embed_moments, _buckets(train), _buckets(valid), cfg, _augment, progress)


def _summaries(model: LightconeNet, moments: torch.Tensor, views: int, gen: torch.Generator) -> torch.Tensor:
    """(views·n, summary) of block moments: the first view as given, the others under random box symmetries."""
    out = []
    with torch.no_grad():
        for view in range(views):
            out.append(torch.cat([model.embed_moments(m.float() if view == 0 else _augment(m.float(), gen))
                                  for m in moments.split(64)]))
    return torch.cat(out)


def refit_flow(model: LightconeNet, fresh: list[LightconeSet], valid: list[LightconeSet], cfg: FitConfig,
               views: int = 4, progress: Callable = lambda f, m: None) -> LightconeNet:
    """Fit ``model``'s flow again, its CNN frozen, on the summaries of lightcones the CNN never trained on.

    On its own training set a CNN's summaries are sharper than on new lightcones, so a flow fitted
    beside it learns widths that are wrong on new data (too narrow where the CNN overfits, too wide where
    training stopped early); fitted on fresh simulations it learns p(θ | summary) as it will be used.
    Summaries have one size whatever the box, so every set goes into one bucket."""
    model.eval()
    gen = torch.Generator().manual_seed(cfg.seed)

    def bucket(sets: list[LightconeSet], k: int) -> Buckets:
        parts = [(_summaries(model, x, k, gen), z.repeat(k, 1)) for x, z in _buckets(sets)]
        return [(torch.cat([x for x, _ in parts]), torch.cat([z for _, z in parts]))]

    _fit(torch.nn.ModuleDict({"flow": model.flow}), lambda s: s, bucket(fresh, views), bucket(valid, 1), cfg, None,
         progress)
    return model.eval()


def _interval_coverage_error(z: torch.Tensor, truth: torch.Tensor, scale: float) -> float:
    """Mean squared gap between claimed and actual coverage of central intervals (5–95 %) of one
    parameter's draws ``z`` (B, n) widened by ``scale`` about their mean, against ``truth`` (B,)."""
    rank = (widened(z, scale) < truth[:, None]).float().mean(dim=1)
    level = torch.linspace(0.05, 0.95, 19)
    held = ((rank[:, None] - 0.5).abs() <= level[None] / 2).float().mean(dim=0)
    return float(((held - level) ** 2).mean())


def calibrate_widths(model: LightconeEnsemble, calibration: list[LightconeSet], n_samples: int = 1000,
                     scales=tuple(np.arange(0.8, 2.0001, 0.025)), seed: int = 0) -> torch.Tensor:
    """Set ``model.width_scale``: per parameter, the scaling of the draws (logit space, about their mean)
    whose central intervals hold the truth of fresh lightcones as often as they claim.

    A refitted flow can still be too sure where the CNN's summary is sharp (L_X, E0: 68 % intervals held
    the truth ~60 % of the time) or too wide (ζ: 75 %); one factor per parameter trades the 5–95 % levels
    off together, so a flow whose core is too wide but whose tails are right is narrowed only part way.
    The calibration lightcones must be new to both the CNN and the flow."""
    model.eval()
    model.width_scale.fill_(1.0)
    buckets = _buckets(calibration)
    truth = torch.cat([z for _, z in buckets])
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        z = torch.cat([model.sample_summaries(model.summaries(m.float()), n_samples)
                       for x, _ in buckets for m in x.split(50)])
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
    return _fit(model, model.embed, [(torch.from_numpy(props), to_unit(torch.from_numpy(theta), low, high))],
                [(torch.from_numpy(props_val), to_unit(torch.from_numpy(theta_val), low, high))], cfg, None, progress)
