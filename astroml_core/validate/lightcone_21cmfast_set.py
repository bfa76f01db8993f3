"""Sets of real 21cmFAST lightcones as FITS files, for testing and recalibrating the lightcone posterior (issue 32).

Each lightcone is one 21cmFAST 4.1.1 run (``const-zeta`` template, spin-temperature fluctuations on) of a
128 Mpc box in 4 Mpc cells from z = 6 to 2,688 Mpc beyond, at parameters drawn from the model's prior (uniform
box, τ ≤ 0.089, x_HI(z = 5) ≤ 0.1, the cut judged with m_WDM = 10 keV as 21cmFAST is cold dark matter). The
file carries the true parameters in its header, all but m_WDM, which 21cmFAST does not have. The draw for a
seed depends on that seed alone, so a set grows without changing its first members.

Seed ranges are fixed and disjoint: ``test`` (7000–7099) is never used to train or tune anything; ``calibration``
(8000–8999) is what :mod:`astroml_core.train.lightcone_applicability` fits the check and summary heads on.

21cmFAST runs in its own interpreter (``--python``: py21cmfast does not install beside our pinned stack on
every machine; it builds with Debian's libfftw3-dev and libgsl-dev), one run per core, ~45 s of one core each.
"""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..sim.lightcone import PARAMETER_NAMES, physically_allowed, sample_prior
from . import twentyone_cm_fast as ref

__all__ = ["SEEDS", "draw_parameters", "lightcone_path", "generate"]

SEEDS = {"test": 7000, "calibration": 8000}
CDM_M_WDM = 10.0          # the prior's coldest warm dark matter, standing in for 21cmFAST's CDM in the prior cut


def draw_parameters(seed: int) -> dict:
    """The true parameters of the lightcone of ``seed``: one allowed prior draw from its own generator, no m_WDM."""
    rng = np.random.default_rng([seed, 21])
    while True:
        params = dict(sample_prior(1, rng)[0], m_wdm=CDM_M_WDM)
        if physically_allowed(params):
            return {k: params[k] for k in PARAMETER_NAMES if k != "m_wdm"}


def lightcone_path(folder: Path, kind: str, index: int) -> Path:
    """Where lightcone ``index`` of set ``kind`` lives in ``folder``."""
    return Path(folder) / kind / f"21cmfast_{SEEDS[kind] + index}.fits"


def _run_one(python: str, seed: int, out: Path) -> Path:
    args = [python, str(Path(ref.__file__)), "--seed", str(seed), "--fits", str(out), "--threads", "1"]
    for key, value in draw_parameters(seed).items():
        args += ["--param", f"{key}={value}"]
    subprocess.run(args, capture_output=True, text=True, check=True, cwd="/")
    return out


def generate(kind: str, n: int, folder: Path, python: str, *, jobs: int = 2, start: int = 0, progress=print) -> list[Path]:
    """Lightcones ``start`` … ``n - 1`` of set ``kind`` in ``folder`` (runs only the missing ones, ``jobs`` at once)."""
    paths = [lightcone_path(folder, kind, i) for i in range(start, n)]
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    missing = [p for p in paths if not p.exists()]
    with ThreadPoolExecutor(jobs) as pool:
        for done in pool.map(lambda p: _run_one(python, int(p.stem.split("_")[1]), p), missing):
            progress(f"{done}")
    return paths


def write_cut(source: Path, z_max: float, out: Path) -> Path:
    """A copy of a lightcone FITS file that ends at ``z_max`` (as 21cmFAST's default lightcones do), stored as 16-bit
    integers (BSCALE 0.01 mK) to keep test data small."""
    from astropy.io import fits

    with fits.open(source) as hdul:
        z = np.asarray(hdul["REDSHIFT"].data["z"])
        n = int(np.searchsorted(z, z_max))
        primary = fits.PrimaryHDU(header=hdul[0].header.copy())
        primary.data = hdul[0].data[:n].astype(np.float32)
        primary.scale("int16", bscale=0.01, bzero=0.0)
        table = fits.BinTableHDU(hdul["REDSHIFT"].data[:n], name="REDSHIFT")
        fits.HDUList([primary, table]).writeto(out, overwrite=True)
    return out
