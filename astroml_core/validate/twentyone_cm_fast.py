"""Reference runs of the real 21cmFAST simulator (py21cmfast 4.x).

This module runs a 21cmFAST lightcone at one parameter point and saves summary
statistics (global signal, neutral fraction, 21 cm power spectrum) to an .npz
file so that our emulator/simulator can be validated against it.

It is deliberately self-contained (no ``astroml_core`` imports) and imports
``py21cmfast`` and ``numpy`` lazily, so it can be imported anywhere to check
availability, and executed as a script by an interpreter that has 21cmFAST:

    /tmp/v21/bin/python astroml_core/validate/twentyone_cm_fast.py \
        --seed 1 --cache /tmp/21cmfast_runs \
        --param omega_m=0.3 --param zeta=30 --param log10_tvir=4.7 \
        --param log10_lx=40 --param e0=500

``--param`` accepts our parameter names (``omega_m``, ``zeta``, ``log10_tvir``,
``log10_lx``, ``e0``, ``m_wdm``) and also raw 21cmFAST input-struct names
(e.g. ``OMm=0.3``, ``HII_EFF_FACTOR=30``), which are passed through as overrides.

Parameter mapping (checked against the py21cmfast 4.1.1 source):

* ``omega_m``    -> ``CosmoParams.OMm`` (flat: OMl = 1 - OMm; OMb, h, sigma8 fixed).
                    The lightcone slicing uses the same cosmology.
* ``zeta``       -> ``AstroParams.HII_EFF_FACTOR``; only used when
                    ``SOURCE_MODEL == 'CONST-ION-EFF'``, hence template ``const-zeta``.
* ``log10_tvir`` -> ``AstroParams.ION_Tvir_MIN`` (log10 K) and ``X_RAY_Tvir_MIN``;
                    only used with ``AstroOptions.M_MIN_in_Mass=False``.
* ``log10_lx``   -> ``AstroParams.L_X`` (log10 erg/s per Msun/yr).
* ``e0``         -> ``AstroParams.NU_X_THRESH`` (eV).
                    L_X and NU_X_THRESH only matter with ``USE_TS_FLUCT=True``.
* ``m_wdm``      -> ignored: 21cmFAST has no warm-dark-matter model (the WDM
                    cut-off is commented out in its C source). Recorded in the
                    output as an ignored parameter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

# Template / flags needed for our parameters to actually act in 21cmFAST v4.
TEMPLATE = "const-zeta"
FIXED_SETTINGS = {
    "USE_TS_FLUCT": True,  # spin-temperature fluctuations: L_X and E0 act
    "M_MIN_in_Mass": False,  # minimum source mass from ION_Tvir_MIN
    "N_THREADS": 2,
}

# our name -> 21cmFAST name(s)
PARAM_MAP = {
    "omega_m": ("OMm",),
    "zeta": ("HII_EFF_FACTOR",),
    "log10_tvir": ("ION_Tvir_MIN", "X_RAY_Tvir_MIN"),
    "log10_lx": ("L_X",),
    "log_tvir": ("ION_Tvir_MIN", "X_RAY_Tvir_MIN"),     # the posterior's column names
    "log_lx": ("L_X",),
    "e0": ("NU_X_THRESH",),
}
IGNORED_PARAMS = {
    "m_wdm": "21cmFAST has no warm dark matter model; m_wdm is ignored",
}

# Power spectrum chunks: centres in redshift.
PS_Z_TARGETS = (7.0, 8.5, 10.0)
PS_NBINS = 10


def is_available() -> bool:
    """True if ``py21cmfast`` can be imported by this interpreter."""
    import importlib.util

    return importlib.util.find_spec("py21cmfast") is not None


def to_21cmfast_kwargs(params: dict) -> tuple[dict, dict]:
    """Map our parameter dict to 21cmFAST loose kwargs.

    Returns ``(kwargs, ignored)``. Unknown names are passed through unchanged
    (they are expected to be 21cmFAST input-struct field names).
    """
    kwargs: dict = {}
    ignored: dict = {}
    for name, value in params.items():
        if name in IGNORED_PARAMS:
            ignored[name] = value
        elif name in PARAM_MAP:
            for target in PARAM_MAP[name]:
                kwargs[target] = float(value)
        else:
            kwargs[name] = value
    return kwargs, ignored


def _spherical_ps(box, cell_mpc: float, k_edges):
    """Spherically averaged Δ²(k) [units of box²] of a cubic box (mean removed)."""
    import numpy as np

    n = box.shape[0]
    delta = box - box.mean()
    vol = (n * cell_mpc) ** 3
    ft = np.fft.fftn(delta) * cell_mpc**3
    pk = np.abs(ft) ** 2 / vol
    kf = 2 * np.pi * np.fft.fftfreq(n, d=cell_mpc)
    kx, ky, kz = np.meshgrid(kf, kf, kf, indexing="ij")
    kmag = np.sqrt(kx**2 + ky**2 + kz**2).ravel()
    d2 = (kmag**3 * pk.ravel()) / (2 * np.pi**2)
    idx = np.digitize(kmag, k_edges) - 1
    nb = len(k_edges) - 1
    good = (kmag > 0) & (idx >= 0) & (idx < nb)
    counts = np.bincount(idx[good], minlength=nb)
    sums = np.bincount(idx[good], weights=d2[good], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out, counts


def power_spectra(bt, z, cell_mpc: float):
    """(k [1/Mpc], z of each chunk, Δ² [mK²] (3, nk), modes (3, nk)) of cubic lightcone chunks centred near
    PS_Z_TARGETS; pure numpy, shared with our simulator's side of the comparison."""
    import numpy as np

    n = bt.shape[0]
    nz = bt.shape[2]
    k_edges = np.logspace(
        math.log10(2 * math.pi / (n * cell_mpc)), math.log10(math.pi / cell_mpc), PS_NBINS + 1
    )
    ps_k = np.sqrt(k_edges[:-1] * k_edges[1:])
    ps_z, ps_d2, ps_nm = [], [], []
    for zt in PS_Z_TARGETS:
        ic = int(np.argmin(np.abs(z - zt)))
        i0 = int(np.clip(ic - n // 2, 0, max(nz - n, 0)))
        chunk = bt[:, :, i0 : i0 + n]
        if chunk.shape[2] < n:  # lightcone shorter than a cube: cannot do a cubic PS
            ps_z.append(float(zt))
            ps_d2.append(np.full(PS_NBINS, np.nan))
            ps_nm.append(np.zeros(PS_NBINS, dtype=int))
            continue
        d2, counts = _spherical_ps(chunk, cell_mpc, k_edges)
        ps_z.append(float(z[i0 + n // 2]))
        ps_d2.append(d2)
        ps_nm.append(counts)
    return ps_k, np.asarray(ps_z), np.asarray(ps_d2), np.asarray(ps_nm)


def _output_name(params: dict, seed: int, hii_dim: int, box_len: float, z_min: float, z_max: float, version: str) -> str:
    key = json.dumps(
        {"params": params, "seed": seed, "hii_dim": hii_dim, "box": box_len,
         "z": [z_min, z_max], "v": version, "template": TEMPLATE, "fixed": FIXED_SETTINGS},
        sort_keys=True,
    )
    h = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"21cmfast_s{seed}_d{hii_dim}_L{box_len:g}_z{z_min:g}-{z_max:g}_{h}.npz"


def _run_lightcone(params: dict, seed: int, hii_dim: int, box_len_mpc: float, z_min: float, z_max: float | None,
                   threads: int):
    """One 21cmFAST lightcone of δT_b and neutral fraction from ``z_min`` to ``z_max`` (None: our model's whole line
    of sight in this run's cosmology): (lightcone, inputs, seconds, settings)."""
    import py21cmfast as p21c

    kwargs, _ = to_21cmfast_kwargs(params)
    settings = dict(FIXED_SETTINGS, N_THREADS=int(threads), HII_DIM=int(hii_dim), BOX_LEN=float(box_len_mpc))
    settings.update(kwargs)
    inputs = p21c.InputParameters.from_template(TEMPLATE, random_seed=int(seed), **settings)
    cosmo = inputs.cosmo_params.cosmo
    lightconer = p21c.RectilinearLightconer.between_redshifts(
        min_redshift=float(z_min), max_redshift=float(z_max if z_max is not None else lightcone_z_max(cosmo, z_min)),
        resolution=inputs.simulation_options.cell_size, cosmo=cosmo, quantities=("brightness_temp", "neutral_fraction"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="p21c_cache_") as tmp:
        lc = p21c.run_lightcone(lightconer=lightconer, inputs=inputs, write=p21c.CacheConfig.off(),
                                cache=p21c.OutputCache(tmp), regenerate=True)
    return lc, inputs, time.perf_counter() - t0, settings


def run_reference(
    params: dict,
    *,
    seed: int,
    hii_dim: int = 32,
    box_len_mpc: float = 96.0,
    z_min: float = 6.0,
    z_max: float = 15.0,
    cache_dir: str,
    overwrite: bool = False,
) -> str:
    """Run a 21cmFAST lightcone at ``params`` and save summaries to an .npz.

    Arrays written: ``z`` (n_slices,), ``mean_tb`` [mK] (n_slices,), ``xhi``
    (n_slices,), ``ps_k`` [1/Mpc] (nk,), ``ps_z`` (3,), ``ps_delta2`` [mK²]
    (3, nk), ``ps_nmodes`` (3, nk), ``cell_mpc`` (scalar), ``params`` (JSON of
    the input dict), ``meta`` (JSON: version, 21cmFAST kwargs, ignored params,
    run time). Returns the file path. If the file exists already and
    ``overwrite`` is False, the run is skipped and the path returned.
    """
    import numpy as np
    import py21cmfast as p21c

    version = getattr(p21c, "__version__", "unknown")
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / _output_name(dict(params), seed, hii_dim, box_len_mpc, z_min, z_max, version)
    if out.exists() and not overwrite:
        return str(out)

    _, ignored = to_21cmfast_kwargs(dict(params))
    lc, inputs, elapsed, settings = _run_lightcone(dict(params), seed, hii_dim, box_len_mpc, z_min, z_max,
                                                   FIXED_SETTINGS["N_THREADS"])
    cell_mpc = float(inputs.simulation_options.BOX_LEN) / inputs.simulation_options.HII_DIM

    bt = np.asarray(lc.lightcones["brightness_temp"], dtype=np.float64)  # (N, N, nz), mK
    xh = np.asarray(lc.lightcones["neutral_fraction"], dtype=np.float64)
    z = np.asarray(lc.lightcone_redshifts, dtype=np.float64)
    mean_tb = bt.mean(axis=(0, 1))
    xhi = xh.mean(axis=(0, 1))

    ps_k, ps_z, ps_d2, ps_nm = power_spectra(bt, z, cell_mpc)

    meta = {
        "py21cmfast_version": version,
        "template": TEMPLATE,
        "settings": {k: (v if isinstance(v, (int, float, bool, str)) else str(v)) for k, v in settings.items()},
        "ignored_params": {k: IGNORED_PARAMS[k] for k in ignored},
        "seed": int(seed),
        "z_min": float(z_min),
        "z_max": float(z_max),
        "run_seconds": elapsed,
        "ps_chunk": f"cubic {bt.shape[0]}^3 lightcone chunk (mean removed), {PS_NBINS} log k-bins",
    }
    tmp_out = out.with_suffix(".tmp.npz")
    np.savez(
        tmp_out,
        z=z,
        mean_tb=mean_tb,
        xhi=xhi,
        ps_k=ps_k,
        ps_z=ps_z,
        ps_delta2=ps_d2,
        ps_nmodes=ps_nm,
        cell_mpc=np.float64(cell_mpc),
        params=np.asarray(json.dumps(dict(params), sort_keys=True)),
        meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )
    os.replace(tmp_out, out)
    return str(out)


LOS_MPC = 2688.0    # our model's line of sight past z_min (672 slices of 4 Mpc)


def lightcone_z_max(cosmo, z_min: float, los_mpc: float = LOS_MPC, margin_mpc: float = 16.0) -> float:
    """Redshift ``los_mpc`` (+ a margin) beyond ``z_min`` in ``cosmo``, so the lightcone holds the model's line of sight."""
    import numpy as np

    target = cosmo.comoving_distance(z_min).value + los_mpc + margin_mpc
    grid = np.linspace(z_min, 60.0, 5000)
    return float(np.interp(target, cosmo.comoving_distance(grid).value, grid))


def run_lightcone_fits(params: dict, *, seed: int, out: str, hii_dim: int = 32, box_len_mpc: float = 128.0,
                       z_min: float = 6.0, threads: int = 1) -> str:
    """Run 21cmFAST at ``params`` and write the δT_b lightcone as FITS the app reads: (line of sight, y, x) in mK,
    CDELT1 in Mpc, the true parameters as header keywords (our names), and a REDSHIFT table (z, xhi)."""
    import numpy as np
    import py21cmfast as p21c
    from astropy.io import fits
    from astropy.table import Table

    if Path(out).exists():
        return out
    lc, inputs, elapsed, _ = _run_lightcone(params, seed, hii_dim, box_len_mpc, z_min, None, threads)
    bt = np.asarray(lc.lightcones["brightness_temp"], dtype=np.float32)        # (x, y, los) mK
    xhi = np.asarray(lc.lightcones["neutral_fraction"], dtype=np.float64).mean(axis=(0, 1))
    z = np.asarray(lc.lightcone_redshifts, dtype=np.float64)
    cell = float(inputs.simulation_options.BOX_LEN) / inputs.simulation_options.HII_DIM
    hdr = fits.Header()
    hdr["BUNIT"] = "mK"
    hdr["BTYPE"] = "dT_b"
    for axis, ctype in enumerate(("X", "Y", "LOSDIST"), 1):
        hdr[f"CTYPE{axis}"], hdr[f"CUNIT{axis}"], hdr[f"CDELT{axis}"] = ctype, "Mpc", cell
    hdr["ZMIN"] = float(z[0])
    for name, value in params.items():
        hdr[name.upper()] = (float(value), f"true value of posterior column {name}")
    hdr["SEED"] = int(seed)
    hdr["ORIGIN"] = f"21cmFAST {getattr(p21c, '__version__', '?')} ({TEMPLATE}, USE_TS_FLUCT)"
    hdr["RUNSEC"] = round(elapsed, 1)
    hdr["OMEGA_M0"] = float(params["omega_m"])
    hdr["H0"] = float(inputs.cosmo_params.cosmo.H0.value)
    table = fits.table_to_hdu(Table({"z": z, "xhi": xhi}))
    table.name = "REDSHIFT"
    tmp_out = str(out) + ".tmp"
    fits.HDUList([fits.PrimaryHDU(np.ascontiguousarray(np.moveaxis(bt, -1, 0)), hdr), table]).writeto(tmp_out, overwrite=True)
    os.replace(tmp_out, out)
    return str(out)


def _parse_value(s: str):
    low = s.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run a 21cmFAST reference lightcone.")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--cache", help="output directory for the .npz (summaries)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--hii-dim", type=int, default=32)
    ap.add_argument("--box-len", type=float, default=96.0)
    ap.add_argument("--z-min", type=float, default=6.0)
    ap.add_argument("--z-max", type=float, default=15.0)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--fits", help="write the whole lightcone as FITS here (our parameter names; 128 Mpc box, to the "
                                   "model's 2,688 Mpc past z-min) instead of summaries")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    params = {}
    for item in args.param:
        if "=" not in item:
            ap.error(f"--param expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        params[k.strip()] = _parse_value(v)

    t0 = time.perf_counter()
    if args.fits:
        path = run_lightcone_fits(params, seed=args.seed, out=args.fits, hii_dim=args.hii_dim, z_min=args.z_min,
                                  threads=args.threads)
        print(f"{path}  ({time.perf_counter() - t0:.1f} s)")
        return 0
    path = run_reference(
        params,
        seed=args.seed,
        hii_dim=args.hii_dim,
        box_len_mpc=args.box_len,
        z_min=args.z_min,
        z_max=args.z_max,
        cache_dir=args.cache,
        overwrite=args.overwrite,
    )
    print(f"{path}  ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
