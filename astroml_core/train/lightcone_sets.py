"""Seeded sets of simulated lightcones for training and held-out scoring, stored as block moments.

Parameters are drawn from the allowed prior (:func:`sim.lightcone.sample_allowed`) with the set's seed;
lightcone ``i`` uses seed ``seed * 100_000 + i``. The network's fixed first layer (block mean and rms)
is applied here, so a set of 6,000 lightcones takes 1.0 GB instead of 16 GB. Sets are cached as .npz
under ``<cache>/lightcones`` (named by seed, size and line of sight) because simulating one costs ~0.1 s.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..service.device import cpu_threads
from ..sim.lightcone import PARAMETER_NAMES, LightconeConfig, sample_allowed, simulate_lightcone

__all__ = ["LightconeSet", "lightcone_set", "joined", "TRAIN_SEEDS", "VALID_SEED", "HELD_OUT_SEED", "REFIT_SEEDS",
           "CALIBRATION_SEED", "OTHER_WIDTHS_HELD_OUT", "SECOND_CELLS", "SECOND_TRAIN_SEED",
           "SECOND_VALID_SEED", "SECOND_REFIT_SEED", "SECOND_CALIBRATION_SEED"]

# REFIT_SEEDS: the fresh sets that the flows are fitted again on, after the CNNs (see train.inference.refit_flow);
# CALIBRATION_SEED: new to both, for the posterior's widths (train.inference.calibrate_widths)
TRAIN_SEEDS, VALID_SEED, HELD_OUT_SEED, REFIT_SEEDS = (41, 43), 42, 4_000, (44, 45, 46)
CALIBRATION_SEED = 47
# the second training width (192 Mpc): the simulated sky changes with the box, so the network sees both
# and is told which (see models.inference_nets.LightconeNet.embed_moments)
SECOND_CELLS, SECOND_TRAIN_SEED, SECOND_VALID_SEED, SECOND_REFIT_SEED, SECOND_CALIBRATION_SEED = 48, 141, 142, 144, 147
# (seed, cells across) of boxes held out at other widths: the second training width (192 Mpc) and twice
# the first (256 Mpc, wider than any trained on)
OTHER_WIDTHS_HELD_OUT = ((4_003, SECOND_CELLS), (4_001, 64))


@dataclass
class LightconeSet:
    """Block moments (n, 2, X/2, Y/2, L/4) float16, true parameters (n, 6), mean δT_b per slice (n, L)."""

    moments: np.ndarray
    theta: np.ndarray
    mean_tb: np.ndarray
    redshift_min: float


def joined(sets: list[LightconeSet]) -> LightconeSet:
    """Several sets as one (training uses sets of 6,000 made with different seeds)."""
    return LightconeSet(np.concatenate([s.moments for s in sets]), np.concatenate([s.theta for s in sets]),
                        np.concatenate([s.mean_tb for s in sets]), sets[0].redshift_min)


def _moments(args: tuple[dict, int, LightconeConfig]) -> tuple[np.ndarray, np.ndarray]:
    import torch

    from ..models.inference_nets import BlockMoments

    params, seed, grid = args
    torch.set_num_threads(1)
    lc = simulate_lightcone(params, seed=seed, config=grid)
    with torch.no_grad():
        m = BlockMoments()(torch.from_numpy(lc.tb)[None])[0].numpy()
    return m.astype(np.float16), lc.mean_tb.astype(np.float32)


def lightcone_set(n: int, seed: int, cache: Path | None = None, workers: int | None = None,
                  progress=None, n_cells: int = LightconeConfig.n_cells) -> LightconeSet:
    """``n`` lightcones from the allowed prior, deterministic in ``seed`` (cached under ``cache``), in boxes
    ``n_cells`` wide (the training width unless a test of other widths asks)."""
    grid = LightconeConfig(n_cells=n_cells)
    width = "" if n_cells == LightconeConfig.n_cells else f"_w{n_cells}"
    path = cache / "lightcones" / f"set_{seed}_{n}_los{grid.n_los}{width}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as data:
            return LightconeSet(data["moments"], data["theta"], data["mean_tb"], grid.z_min)
    moments, mean_tb = [], []
    with get_context("spawn").Pool(workers or cpu_threads()) as pool:
        params = sample_allowed(n, np.random.default_rng(seed), mapper=partial(pool.map, chunksize=64))
        jobs = [(p, seed * 100_000 + i, grid) for i, p in enumerate(params)]
        for i, (m, t) in enumerate(pool.imap(_moments, jobs, chunksize=8)):
            moments.append(m)
            mean_tb.append(t)
            if progress and i % 200 == 0:
                progress(i / n, f"simulated {i}/{n} lightcones (seed {seed})")
    out = LightconeSet(np.stack(moments), np.array([[p[k] for k in PARAMETER_NAMES] for p in params], np.float32),
                       np.stack(mean_tb), grid.z_min)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, moments=out.moments, theta=out.theta, mean_tb=out.mean_tb)
    return out
