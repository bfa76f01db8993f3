"""The inference commands of ``astroml``:

    astroml sim lightcone --seed S -o LC.fits [--param NAME=VALUE ...] [--noise MK]
    astroml sim galaxies --universe A|B -n N -o GALAXIES.ecsv
    astroml infer lightcone LC.fits -o posterior.ecsv [-n 10000] [--seed 0]
    astroml infer galaxy GALAXIES.ecsv -o posterior.ecsv [--rows 1,2,3] [-n 10000]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .errors import AstroMLError

__all__ = ["add_sim_commands", "add_infer_command"]


def _parse_params(pairs: list[str]) -> dict:
    from .sim.lightcone import PARAMETER_NAMES

    out = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if name not in PARAMETER_NAMES or not value:
            raise AstroMLError(f"--param {pair!r}: use NAME=VALUE with NAME one of {', '.join(PARAMETER_NAMES)}")
        out[name] = float(value)
    return out


def _sim_lightcone(args: argparse.Namespace) -> int:
    from .sim.lightcone import LightconeConfig, sample_allowed, simulate_lightcone, write_lightcone

    params = sample_allowed(1, np.random.default_rng(args.seed))[0]
    params.update(_parse_params(args.param))
    lc = simulate_lightcone(params, seed=args.seed, config=LightconeConfig(noise_mk=args.noise))
    write_lightcone(args.output, lc)
    print(f"wrote {args.output}: {lc.tb.shape[0]}×{lc.tb.shape[1]}×{lc.tb.shape[2]} cells, z = "
          f"{lc.redshift[0]:.2f}–{lc.redshift[-1]:.2f}; " + ", ".join(f"{k} = {v:.4g}" for k, v in params.items()))
    return 0


def _sim_galaxies(args: argparse.Namespace) -> int:
    from .tasks.inference import DEMO_UNIVERSES, demo_universe, galaxy_table

    names = {name.split()[1]: name for name in DEMO_UNIVERSES}
    truth, props = demo_universe(names[args.universe], args.n)
    table = galaxy_table(props)
    table.meta.update(truth)
    table.write(args.output, format="ascii.ecsv", overwrite=True)
    print(f"wrote {len(table)} galaxies of {names[args.universe]} to {args.output}")
    return 0


def _infer_lightcone(args: argparse.Namespace) -> int:
    from .data.tables import write_table
    from .tasks.inference import lightcone_posterior, open_lightcone, posterior_summary

    data = open_lightcone(args.lightcone)
    samples = lightcone_posterior(data, n_samples=args.n, seed=args.seed)
    write_table(samples, args.output)
    for row in posterior_summary(samples, data.truth):
        truth = "" if np.isnan(row["truth"]) else f"   (true {row['truth']:.4g})"
        print(f"{row['parameter']:>9} = {row['median']:.4g}  [{row['q16']:.4g}, {row['q84']:.4g}] {row['unit']}{truth}")
    print(f"{len(samples)} samples → {args.output}")
    for note in samples.meta["notes"]:
        print(f"note: {note}", file=sys.stderr)
    _warn_off_distribution(samples.meta)
    return 0


def _warn_off_distribution(meta: dict) -> None:
    """A ``warning: off-distribution:`` line on stderr when the posterior's applicability check flagged its input
    (the check stays in the written file's meta, as the posterior said)."""
    if not meta.get("in_distribution", True):
        check = meta["applicability"]
        print(f"warning: off-distribution: {' '.join(str(check['message']).split())} (score {check['score']:.3g} > "
              f"threshold {check['threshold']:.3g}{'; ' + str(check['rule']) if check.get('rule') else ''})",
              file=sys.stderr)


def _infer_galaxy(args: argparse.Namespace) -> int:
    from astropy.table import QTable

    from .data.tables import write_table
    from .sim.galaxies import GALAXY_PARAMETER_NAMES
    from .tasks.inference import combined_posterior
    from .tasks.inference.galaxy import read_galaxies

    props, rows = read_galaxies(args.galaxies, _parse_rows(args.rows))
    post = combined_posterior(props, n_draws=args.n, seed=args.seed, rows=[r + 1 for r in rows])
    out = QTable({name: post.samples[:, i] for i, name in enumerate(GALAXY_PARAMETER_NAMES)})
    out["weight"] = post.weights
    out.meta.update(galaxies=[r + 1 for r in rows], effective_sample_size=post.ess,
                    in_distribution=post.in_distribution, applicability=post.verdict.meta())
    write_table(out, args.output)
    lo, med, hi = post.interval("omega_m")
    left_out = len(rows) - post.n_galaxies
    print(f"Ω_m = {med:.3f} [{lo:.3f}, {hi:.3f}] (68 %) from {len(rows)} galaxies"
          f"{f' ({left_out} flagged, left out)' if left_out else ''}; effective samples {post.ess:.0f}")
    _warn_off_distribution(out.meta)
    return 0


def _parse_rows(text: str | None) -> list[int] | None:
    """``--rows 1,2,3`` as 0-based row indices (None: all rows); a typed error for anything else."""
    if not text:
        return None
    try:
        return [int(r) - 1 for r in text.split(",")]
    except ValueError:
        raise AstroMLError(f"--rows {text!r}: give 1-based row numbers separated by commas, e.g. 1,2,3") from None


def add_sim_commands(sim) -> None:
    """``astroml sim lightcone`` and ``astroml sim galaxies``."""
    lc = sim.add_parser("lightcone", help="a 21 cm lightcone with its true parameters in the header")
    lc.add_argument("--seed", type=int, required=True, help="draws the parameters (allowed prior) and the field")
    lc.add_argument("-o", "--output", type=Path, required=True, help="FITS file to write")
    lc.add_argument("--param", action="append", help="fix a parameter, e.g. --param omega_m=0.3 (repeatable)")
    lc.add_argument("--noise", type=float, help="thermal noise rms per cell at z = 8, mK")
    lc.set_defaults(func=_sim_lightcone)
    ga = sim.add_parser("galaxies", help="galaxies of one demo universe (log properties, truth in the meta)")
    ga.add_argument("--universe", choices=("A", "B"), default="A")
    ga.add_argument("-n", type=int, default=40)
    ga.add_argument("-o", "--output", type=Path, required=True, help="ECSV table to write")
    ga.set_defaults(func=_sim_galaxies)


def add_infer_command(sub) -> None:
    """``astroml infer lightcone|galaxy``."""
    infer = sub.add_parser("infer", help="posterior samples of parameters").add_subparsers(dest="action", required=True)
    il = infer.add_parser("lightcone", help="six parameters from a 21 cm lightcone")
    il.add_argument("lightcone", type=Path)
    il.add_argument("-o", "--output", type=Path, required=True, help="samples: .ecsv, .csv or .vot")
    il.add_argument("-n", type=int, default=10_000, help="number of samples")
    il.add_argument("--seed", type=int, default=0)
    il.set_defaults(func=_infer_lightcone)
    ig = infer.add_parser("galaxy", help="Ω_m and feedback from galaxies of one universe (joint posterior)")
    ig.add_argument("galaxies", type=Path, help="table with log_M_gas, log_M_star, ... columns")
    ig.add_argument("-o", "--output", type=Path, required=True, help="weighted samples: .ecsv, .csv or .vot")
    ig.add_argument("--rows", help="1-based rows to combine, e.g. 1,2,3 (default: all)")
    ig.add_argument("-n", type=int, default=16_000, help="number of weighted draws")
    ig.add_argument("--seed", type=int, default=0)
    ig.set_defaults(func=_infer_galaxy)
