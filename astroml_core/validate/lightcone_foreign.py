"""The lightcone posterior scored on real 21cmFAST lightcones and on our own held-out set, side by side (issue 32).

``python -m astroml_core.validate lightcone-foreign [--folder validation/21cmfast] [--card]`` reads the 21cmFAST
*test* lightcones (seeds 7000+, never used to fit anything; see :mod:`.lightcone_21cmfast_set`) and our
simulator's held-out set (seed 4000), runs the same path as the page (:func:`logit_draws`: applicability
check, then the flow or a summary head, widened when flagged), and reports per parameter the 95 % coverage
and R² of the posterior mean over the lightcones *not* flagged, the flag rate, and the lightcones whose truth
falls outside a 95 % interval by more than 3 posterior σ without being flagged (there must be none). Each set
is also read cut at z = 12, as 21cmFAST's default lightcones end, to show the posterior widen.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..sim.lightcone import PARAMETER_NAMES, PARAMETERS

__all__ = ["score_set", "summarise", "run", "markdown", "write_card", "save_test_set", "Z_CUT"]

Z_CUT = 12.0
OWN_HELD_OUT = (4000, 500)           # seed and size of our simulator's held-out lightcones scored here


def score_set(model, moments: np.ndarray, truth: np.ndarray, lengths: np.ndarray, n_samples: int = 1000) -> dict:
    """Per-lightcone results: flagged, domain, score, and per parameter the median, 95 % bounds, σ and truth."""
    import torch

    from ..models.inference_nets import from_unit, prior_bounds
    from ..tasks.inference.lightcone import logit_draws
    from ..train.lightcone_applicability import truncated

    low, high = prior_bounds(PARAMETERS)
    rows = dict(flagged=[], domain=[], score=[], median=[], lo=[], hi=[], sd=[], mean=[], truth=truth, n_los=lengths)
    with torch.no_grad():
        for i in range(len(moments)):
            m = torch.from_numpy(truncated(moments[i:i + 1], int(lengths[i])))
            z, verdict = logit_draws(model, m, int(lengths[i]), n_samples, seed=i)
            x = from_unit(torch.from_numpy(z).float(), low, high).numpy()
            rows["flagged"].append(not verdict.in_distribution)
            rows["domain"].append(verdict.domain)
            rows["score"].append(verdict.score)
            lo, med, hi = np.quantile(x, [0.025, 0.5, 0.975], axis=0)
            for key, value in (("median", med), ("lo", lo), ("hi", hi), ("sd", x.std(axis=0)), ("mean", x.mean(axis=0))):
                rows[key].append(value)
    return {k: np.asarray(v) for k, v in rows.items()}


def summarise(rows: dict) -> dict:
    """Flag rate, and per parameter (those with a truth) coverage and R² over the lightcones not flagged."""
    flagged = rows["flagged"].astype(bool)
    keep = ~flagged
    truth = rows["truth"]
    outside = np.maximum(rows["lo"] - truth, truth - rows["hi"]) / np.maximum(rows["sd"], 1e-12)
    far = np.nan_to_num(outside, nan=-np.inf).max(axis=1) > 3
    out = dict(n=int(len(flagged)), flagged=int(flagged.sum()), flag_rate=float(flagged.mean()),
               far_misses=int(far.sum()), far_misses_not_flagged=int((far & keep).sum()),
               domains={d: int((rows["domain"] == d).sum()) for d in np.unique(rows["domain"])},
               median_score=float(np.median(rows["score"])), per_parameter={})
    for j, name in enumerate(PARAMETER_NAMES):
        t = truth[:, j]
        if not np.isfinite(t).any() or keep.sum() < 2:
            continue
        inside = (rows["lo"][:, j] <= t) & (t <= rows["hi"][:, j])
        resid = t[keep] - rows["mean"][keep, j]
        r2 = 1 - np.sum(resid ** 2) / np.sum((t[keep] - t[keep].mean()) ** 2)
        p = next(p for p in PARAMETERS if p.name == name)
        out["per_parameter"][name] = dict(coverage_95=float(inside[keep].mean()), coverage_95_all=float(inside.mean()),
                                          r2=float(r2), median_width_95=float(np.median(rows["hi"][keep, j] - rows["lo"][keep, j])),
                                          prior_width_95=float(0.95 * (p.high - p.low)))
    return out


def _slices_to(redshift: np.ndarray, z_cut: float) -> int:
    """Model slices (4 Mpc) from z = 6 to ``z_cut`` in a lightcone of the model's cells."""
    start = float(np.interp(6.0, redshift, np.arange(len(redshift))))
    return int(np.searchsorted(redshift, z_cut) - start)


def run(folder: Path, n_samples: int = 1000, progress=print) -> dict:
    """Both sets, whole and cut at z = 12: the summaries that the card and the tests read."""
    import torch

    from ..config import settings
    from ..registry import load_model
    from ..tasks.inference.lightcone_applicability import usable_length
    from ..train.lightcone_sets import lightcone_set

    model = load_model("lightcone_flow", torch.device("cpu"))
    moments, truth, cut, paths = _test_set(folder)
    own = lightcone_set(OWN_HELD_OUT[1], OWN_HELD_OUT[0], settings().cache_dir)
    own_cut = np.array([usable_length(_slices_to(_sim_redshift(t), Z_CUT)) for t in own.theta])
    full = lambda n: np.full(n, 672)   # noqa: E731
    out = {}
    for key, m, t, lengths in (("21cmfast", moments, truth, full(len(paths))), ("21cmfast_z12", moments, truth, cut),
                               ("own", own.moments, own.theta, full(len(own.theta))),
                               ("own_z12", own.moments, own.theta, own_cut)):
        progress(f"scoring {key} ({len(m)} lightcones)")
        out[key] = summarise(score_set(model, m, t, lengths, n_samples))
    out["files"] = [p.name for p in paths]
    return out


def _test_set(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Path]]:
    """(block moments, truths, usable lengths cut at z = 12, files) of the 21cmFAST test lightcones in ``folder/test``."""
    from ..tasks.inference.lightcone_applicability import usable_length
    from ..train.lightcone_applicability import fits_moments
    from .lightcone_21cmfast_set import SEEDS

    paths = sorted((Path(folder) / "test").glob("*.fits"))
    assert all(int(p.stem.split("_")[1]) < SEEDS["calibration"] for p in paths), "test lightcones only"
    moments, truth, paths, redshifts = fits_moments(paths)
    cut = np.array([usable_length(_slices_to(z, Z_CUT)) for z in redshifts])
    return moments, truth, cut, paths


def save_test_set(folder: Path, out: Path) -> Path:
    """The 21cmFAST test lightcones as block moments (float16), truths and the lengths cut at z = 12, in one .npz the
    CI's model-quality test reads (it cannot run 21cmFAST)."""
    moments, truth, cut, paths = _test_set(folder)
    np.savez_compressed(out, moments=moments, truth=truth, n_los_z12=cut, files=np.array([p.name for p in paths]))
    return out


def _sim_redshift(theta: np.ndarray) -> np.ndarray:
    """Slice redshifts of our simulator's lightcone at these parameters (its cosmology sets the distances)."""
    from ..sim.cosmology import Cosmology

    cosmo = Cosmology(float(theta[0]))
    return cosmo.redshift_at(float(cosmo.comoving_distance(6.0)) + 4.0 * np.arange(672))


def markdown(summary: dict) -> str:
    """The card's tables: coverage and R² per parameter on each set, flag rates, far misses."""
    labels = {"21cmfast": f"21cmFAST test ({summary['21cmfast']['n']})",
              "21cmfast_z12": "21cmFAST cut at z = 12",
              "own": f"own held-out ({summary['own']['n']}, seed {OWN_HELD_OUT[0]})",
              "own_z12": "own held-out cut at z = 12"}
    keys = list(labels)
    lines = ["| parameter | " + " | ".join(f"{labels[k]}: 95 % coverage / R²" for k in keys) + " |",
             "| --- |" + " --- |" * len(keys)]
    for p in PARAMETERS:
        cells = []
        for k in keys:
            per = summary[k]["per_parameter"].get(p.name)
            cells.append("–" if per is None else f"{per['coverage_95']:.2f} / {per['r2']:.2f}")
        lines.append(f"| {p.label} | " + " | ".join(cells) + " |")
    lines.append("| flagged (off-distribution) | " + " | ".join(
        f"{summary[k]['flagged']} of {summary[k]['n']} ({summary[k]['flag_rate']:.0%})" for k in keys) + " |")
    lines.append("| truth > 3σ outside the 95 % interval, not flagged | " + " | ".join(
        str(summary[k]["far_misses_not_flagged"]) for k in keys) + " |")
    return "\n".join(lines)


def write_card(summary: dict) -> None:
    """Put the tables into lightcone_flow's card (front matter ``foreign_test`` and a body section)."""
    from ..train.card_sections import put_section

    text = ("## Foreign test: real 21cmFAST lightcones (issue 32)\n\n"
            f"{summary['21cmfast']['n']} lightcones of 21cmFAST 4.1.1 (const-zeta template, spin temperature on; "
            "128 Mpc boxes of 4 Mpc cells, z = 6 to 2,688 Mpc beyond), seeds 7000+, parameters from the model's prior; "
            "never used to fit or tune anything. Coverage and R² are over the lightcones not flagged; the page, the "
            "CLI and the written file say when a lightcone is flagged and widen its intervals. The summary heads and "
            "the applicability check learned from separate 21cmFAST calibration runs (seeds 8000+) and from our "
            "simulator's calibration sets (seeds 47, 147). No lightcone of the real-file corpus exists yet: "
            "21cmFAST runs are the only lightcones here that our code did not make.\n\n"
            + markdown(summary)
            + "\n\nCommand: `python -m astroml_core.validate lightcone-foreign --card` (needs the 21cmFAST sets made by "
              "`astroml_core.validate.lightcone_21cmfast_set`).")
    put_section("lightcone_flow", "foreign_test", _rounded({k: v for k, v in summary.items() if k != "files"}), text)


def _rounded(value):
    """Floats to 4 significant digits, all the way down (for the card's front matter)."""
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    return float(f"{value:.4g}") if isinstance(value, float) else value
