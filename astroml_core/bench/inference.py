"""Inference benchmark: 10,000 posterior samples from one ~100 MB lightcone.

Run ``python -m astroml_core.bench inference``. The lightcone has 3D-21cmPIE-Net's size: 140 × 140 cells
of 1.43 Mpc (a 200 Mpc box) × 2,350 slices from z = 5, stored as 16-bit integers with BSCALE (92 MB on
disk). Its content is one of our simulated lightcones interpolated to that grid (not timed). The timed
part — open and validate the file, resample it to the model's grid, run the CNN, draw 10,000 samples —
runs in a fresh process, once cold (weights loaded, first call) and then 3 times warm; the JSON gives
each step, the total, and that process's peak RSS.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "write_big_lightcone", "time_posterior"]

SHAPE = (140, 140, 2350)
CELL_MPC = 200 / 140
TARGET_S = 3.0


def write_big_lightcone(path: Path, seed: int = 4_000_123) -> dict:
    """A 92 MB lightcone FITS (int16 + BSCALE) on 1.43 Mpc cells from z = 5; returns its parameters."""
    import torch
    from astropy.io import fits
    from astropy.table import Table

    from ..sim.cosmology import Cosmology
    from ..sim.lightcone import LightconeConfig, sample_allowed, simulate_lightcone

    params = sample_allowed(1, np.random.default_rng(seed))[0]
    cosmo = Cosmology(params["omega_m"])
    d0 = cosmo.comoving_distance(5.0)
    z = cosmo.redshift_at(d0 + (np.arange(SHAPE[2]) + 0.5) * CELL_MPC)
    n_los = int(np.ceil(SHAPE[2] * CELL_MPC / 4.0))
    lc = simulate_lightcone(params, seed=seed, config=LightconeConfig(n_cells=50, n_los=n_los, z_min=5.0))
    fine = torch.nn.functional.interpolate(torch.from_numpy(lc.tb)[None, None], size=SHAPE, mode="trilinear")[0, 0]
    cube = np.moveaxis(fine.numpy(), -1, 0)
    scale = float(np.abs(cube).max()) / 32000 or 1.0
    hdu = fits.PrimaryHDU(np.round(cube / scale).astype(np.int16))
    hdu.header.update(BSCALE=scale, BZERO=0.0, BUNIT="mK", CDELT1=CELL_MPC, CUNIT1="Mpc", CDELT2=CELL_MPC,
                      CUNIT2="Mpc", CDELT3=CELL_MPC, CUNIT3="Mpc", ZMIN=float(z[0]))
    for k, v in params.items():
        hdu.header[k.upper()] = v
    table = fits.table_to_hdu(Table({"z": z}))
    table.name = "REDSHIFT"
    fits.HDUList([hdu, table]).writeto(path, overwrite=True)
    return params


def time_posterior(path: str, repeats: int = 3) -> dict:
    """Seconds per step for one posterior of ``path`` (cold, then median of warm repeats) and peak RSS."""
    import resource

    import torch

    from ..models.inference_nets import from_unit, prior_bounds
    from ..registry import load_model
    from ..sim.lightcone import PARAMETERS
    from ..tasks.inference.lightcone import logit_draws, model_input, open_lightcone

    low, high = prior_bounds(PARAMETERS)
    runs = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        data = open_lightcone(path)
        t1 = time.perf_counter()
        x = model_input(data)
        t2 = time.perf_counter()
        model = load_model("lightcone_flow", "cpu")
        with torch.no_grad():
            moments = model.members[0].moments(x[None])
            t3 = time.perf_counter()
            z, verdict = logit_draws(model, moments, x.shape[2], 10_000)      # summary, check, posterior draws
            samples = from_unit(torch.from_numpy(z).float(), low, high)
        t4 = time.perf_counter()
        runs.append(dict(open=t1 - t0, resample=t2 - t1, moments=t3 - t2, summary_check_sample_10000=t4 - t3,
                         total=t4 - t0))
    warm = {k: float(np.median([r[k] for r in runs[1:]])) for k in runs[0]}
    median = samples.median(dim=0).values.numpy()
    return dict(cold={k: round(v, 3) for k, v in runs[0].items()}, warm={k: round(v, 3) for k, v in warm.items()},
                model_grid=list(x.shape), posterior_median={p.name: float(m) for p, m in zip(PARAMETERS, median)},
                truth=data.truth, in_distribution=verdict.in_distribution, threads=torch.get_num_threads(),
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))


def run(out: Path) -> dict:
    """Write the big lightcone, time its posterior in a fresh process, write JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lightcone_140x140x2350.fits"
        write_big_lightcone(path)
        size_mb = path.stat().st_size / 2**20
        code = f"import json; from astroml_core.bench.inference import time_posterior; print(json.dumps(time_posterior({str(path)!r})))"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[2])
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
    results = {"benchmark": "inference", "machine": {"cpus": os.cpu_count()},
               "lightcone": {"shape": list(SHAPE), "cell_mpc": round(CELL_MPC, 4), "file_mb": round(size_mb, 1),
                             "dtype": "int16 + BSCALE"},
               "targets": {"seconds_10000_samples": TARGET_S}, **timing,
               "pass": {"under_3s_warm": timing["warm"]["total"] <= TARGET_S,
                        "under_3s_cold": timing["cold"]["total"] <= TARGET_S}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results
