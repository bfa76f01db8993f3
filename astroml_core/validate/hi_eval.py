"""Score the HI finder and the SoFiA-style baseline on the foreign test set (issue 29; a reviewer's run).

``python -m astroml_core.validate hi-foreign [--cubes 8] [--noise] [-o FILE.json] [--size small|full]``
writes each :mod:`.hi_foreign` cube to a temporary folder, opens it with the real reader
(:func:`astroml_core.data.open_cube`), runs :func:`astroml_core.tasks.hi.detect.detect` with each method,
keeps the ``accepted`` rows and scores them with ska-sdc (:func:`astroml_core.metrics.score_sdc2`).
The set is for testing only: nothing here is, or may be, used to train or tune a threshold.
Purity per S/N bin bins the detections by their *measured* S/N (a false detection has no true S/N);
completeness bins the truth by its integrated S/N.
"""
from __future__ import annotations

import math
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import astropy.units as u
import numpy as np
from astropy.io import fits

from ..errors import AstroMLError, ShapeError
from .hi_foreign import (CORR_BEAMS, FOREIGN_NOISE_SEEDS, FOREIGN_SEEDS, ForeignCubeConfig, simulate_foreign_noise,
                         write_foreign_cube)
from .json_out import write_json

__all__ = ["SIZES", "SNR_BINS", "evaluate_cube", "evaluate_noise", "run", "markdown_tables", "write_json"]

SIZES = {"small": dict(nx=64, ny=64, n_channels=96, particles=3000), "full": {}}
SNR_BINS = (0.0, 5.0, 10.0, 20.0, math.inf)
METHODS = ("model", "baseline")
SCORER_BAND_HZ = (0.95e9, 1.15e9)   # ska-sdc keeps only sources in SDC2's band (and fails with no truth left)


def _config(size: str) -> ForeignCubeConfig:
    if size not in SIZES:
        raise AstroMLError(f"unknown size '{size}'; choose one of {tuple(SIZES)}")
    return ForeignCubeConfig(**SIZES[size])


def _detect(cube, method: str):
    """The shipped detector (imported late: it loads torch); the reader's BUNIT note is said once, in _open."""
    from ..errors import HeaderRepairWarning
    from ..tasks.hi.detect import detect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        return detect(cube, method)


def _open(path: Path):
    """open_cube, its header-repair notes (e.g. BUNIT spelling) collected rather than printed."""
    from ..data import open_cube

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cube = open_cube(path)
    notes = sorted({str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)})
    return cube, notes


def _bin_index(values: np.ndarray) -> np.ndarray:
    return np.digitize(values, SNR_BINS[1:-1])


def _score_method(cube, truth, method: str, detector: Callable) -> tuple[dict, dict]:
    """Detect, keep accepted rows, score; (JSON summary, raw arrays for pooling)."""
    from ..metrics import completeness_purity, score_sdc2

    t0 = time.perf_counter()
    table = detector(cube, method)
    wall = time.perf_counter() - t0
    found = table[np.asarray(table["accepted"], dtype=bool)] if len(table) else table
    truth_snr = np.asarray(truth["snr"], dtype=float)
    freq = truth["central_freq"].to_value(u.Hz)
    if np.any((freq > SCORER_BAND_HZ[0]) & (freq < SCORER_BAND_HZ[1])) and len(found):
        result = score_sdc2(found, truth)
        matches, score, n_match = result.matches, result.score, result.n_match
        bins = completeness_purity(result, truth, SNR_BINS)
        by_bin = [dict(snr_min=float(r["snr_min"]), snr_max=float(r["snr_max"]), n_true=int(r["n_true"]),
                       n_found=int(r["n_found"])) for r in bins]
    else:
        matches, score, n_match, by_bin = {}, 0.0, 0, []
    matched_truth = np.isin(np.asarray(truth["id"]), list(matches.values()))
    det_ids = np.asarray(found["id"]) if len(found) else np.zeros(0, int)
    det_snr = np.asarray(found["snr"], dtype=float) if len(found) else np.zeros(0)
    det_true = np.isin(det_ids, list(matches.keys()))
    bright = truth_snr >= 10
    summary = dict(score=float(score), n_det=int(len(found)), n_match=int(n_match),
                   purity=float(n_match / len(found)) if len(found) else None,
                   completeness_snr10=float(matched_truth[bright].mean()) if bright.any() else None,
                   completeness_by_snr=by_bin, wall_s=round(wall, 2), n_candidates=int(len(table)))
    return summary, dict(truth_snr=truth_snr, matched=matched_truth, det_snr=det_snr, det_true=det_true)


def evaluate_cube(seed: int, config: ForeignCubeConfig, folder: Path, methods=METHODS,
                  detector: Callable = _detect) -> tuple[dict, dict]:
    """Write, reopen, detect and score one foreign cube: (JSON record, raw per-method arrays)."""
    path = Path(folder) / f"foreign_{seed}.fits"
    t0 = time.perf_counter()
    truth = write_foreign_cube(path, seed, config)
    sim_s = time.perf_counter() - t0
    cube, notes = _open(path)
    if int(cube.n_channels) != config.n_channels:
        raise ShapeError(f"{path.name}: the reader saw {cube.n_channels} channels, the simulator wrote "
                         f"{config.n_channels}")
    record = dict(seed=seed, corr_beams=truth.meta["corr_beams"], beam_px=round(truth.meta["beam_px"], 3),
                  channel_khz=truth.meta["channel_hz"] / 1e3, first_freq_mhz=round(truth.meta["first_freq_hz"] / 1e6, 3),
                  n_true=len(truth), n_true_snr10=int(np.sum(np.asarray(truth["snr"]) >= 10)),
                  simulate_s=round(sim_s, 2), reader_notes=notes)
    raw = {}
    for method in methods:
        try:
            record[method], raw[method] = _score_method(cube, truth, method, detector)
        except AstroMLError as exc:   # a refusal is a result: recorded, and the other cubes still run
            record[method] = dict(score=None, n_det=0, n_match=0, purity=None, completeness_snr10=None,
                                  wall_s=None, error=f"{type(exc).__name__}: {exc}")
            raw[method] = dict(truth_snr=np.asarray(truth["snr"], dtype=float), matched=np.zeros(len(truth), bool),
                               det_snr=np.zeros(0), det_true=np.zeros(0, bool))
    path.unlink(missing_ok=True)
    return record, raw


def evaluate_noise(seed: int, config: ForeignCubeConfig, folder: Path, methods=METHODS,
                   detector: Callable = _detect) -> dict:
    """Accepted detections per 1e8 voxels on one pure-noise foreign cube, per method."""
    data, header = simulate_foreign_noise(seed, config)
    path = Path(folder) / f"foreign_noise_{seed}.fits"
    fits.PrimaryHDU(data.astype(np.float32), header).writeto(path, overwrite=True)
    cube, _ = _open(path)
    n_vox = config.nx * config.ny * config.n_channels
    out = dict(seed=seed, corr_beams=float(header["FGRHO"]), beam_px=round(float(header["FGBEAMPX"]), 3),
               channel_khz=float(header["FGCHANHZ"]) / 1e3, n_voxels=n_vox)
    for method in methods:
        t0 = time.perf_counter()
        table = detector(cube, method)
        n = int(np.sum(np.asarray(table["accepted"], dtype=bool))) if len(table) else 0
        out[method] = dict(n_false=n, per_1e8_voxels=n / n_vox * 1e8, wall_s=round(time.perf_counter() - t0, 2))
    path.unlink(missing_ok=True)
    return out


def _pool(records: list[dict], raws: list[dict], methods) -> dict:
    """Completeness (truth S/N) and purity (measured S/N) per bin, and both per ρ, over all cubes."""
    labels = [f"{lo:g}–{hi:g}" if math.isfinite(hi) else f"{lo:g}+" for lo, hi in zip(SNR_BINS[:-1], SNR_BINS[1:])]
    pooled = {}
    for m in methods:
        tsnr = np.concatenate([r[m]["truth_snr"] for r in raws]) if raws else np.zeros(0)
        matched = np.concatenate([r[m]["matched"] for r in raws]) if raws else np.zeros(0, bool)
        dsnr = np.concatenate([r[m]["det_snr"] for r in raws]) if raws else np.zeros(0)
        dtrue = np.concatenate([r[m]["det_true"] for r in raws]) if raws else np.zeros(0, bool)
        tb, db = _bin_index(tsnr), _bin_index(dsnr)
        by_snr = []
        for b, label in enumerate(labels):
            nt, nd = int(np.sum(tb == b)), int(np.sum(db == b))
            by_snr.append(dict(bin=label, n_true=nt, n_found=int(matched[tb == b].sum()),
                               completeness=float(matched[tb == b].mean()) if nt else None,
                               n_det=nd, purity=float(dtrue[db == b].mean()) if nd else None))
        by_rho = []
        for rho in CORR_BEAMS:
            sel = [i for i, rec in enumerate(records) if abs(rec["corr_beams"] - rho) < 1e-9]
            n_true = sum(records[i]["n_true"] for i in sel)
            n_match = sum(records[i][m]["n_match"] for i in sel)
            n_det = sum(records[i][m]["n_det"] for i in sel)
            t10 = np.concatenate([raws[i][m]["truth_snr"] >= 10 for i in sel]) if sel else np.zeros(0, bool)
            m10 = np.concatenate([raws[i][m]["matched"] for i in sel]) if sel else np.zeros(0, bool)
            by_rho.append(dict(corr_beams=rho, n_cubes=len(sel), n_true=n_true, n_det=n_det, n_match=n_match,
                               completeness=n_match / n_true if n_true else None,
                               completeness_snr10=float(m10[t10].mean()) if t10.any() else None,
                               purity=n_match / n_det if n_det else None))
        pooled[m] = dict(by_snr=by_snr, by_corr_beams=by_rho,
                         score_total=float(sum(r[m]["score"] or 0.0 for r in records)))
    return pooled


def run(n_cubes: int = 8, *, noise: bool = False, size: str = "full", methods=METHODS,
        detector: Callable = _detect, folder: str | Path | None = None,
        progress: Callable[[str], None] = lambda msg: None) -> dict:
    """Evaluate the first ``n_cubes`` FOREIGN_SEEDS (and the noise seeds with ``noise``); returns the summary."""
    config = _config(size)
    seeds = FOREIGN_SEEDS[:n_cubes]
    records, raws, noise_rows = [], [], []
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for seed in seeds:
            rec, raw = evaluate_cube(seed, config, Path(tmp), methods, detector)
            progress(f"cube {seed}: " + ", ".join(f"{m} score {_fmt(rec[m]['score'], 1)} purity {_fmt(rec[m]['purity'])}"
                                                  for m in methods))
            records.append(rec)
            raws.append(raw)
        if noise:
            for seed in FOREIGN_NOISE_SEEDS:
                noise_rows.append(evaluate_noise(seed, config, Path(tmp), methods, detector))
                progress(f"noise cube {seed} done")
    summary = dict(test_set="astroml_core.validate.hi_foreign (issue 29; never train or tune on it)",
                   size=size, geometry=dict(nx=config.nx, ny=config.ny, n_channels=config.n_channels),
                   methods=list(methods), seeds=list(seeds), cubes=records,
                   pooled=_pool(records, raws, methods), noise=noise_rows)
    summary["markdown"] = markdown_tables(summary)
    return summary


def _fmt(x, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def markdown_tables(summary: dict) -> str:
    """The model card's tables: per cube, pooled by truth S/N, by noise correlation ρ, and noise-only rates."""
    methods = summary["methods"]
    lines = [f"Foreign HI test set ({summary['size']}, {len(summary['cubes'])} cubes; accepted detections, "
             "ska-sdc score)", "",
             "| seed | ρ | beam px | chan kHz | n true | " + " | ".join(
                 f"{m} score | {m} det | {m} match | {m} purity | {m} compl. S/N≥10" for m in methods) + " |",
             "|" + "---|" * (5 + 5 * len(methods))]
    for r in summary["cubes"]:
        lines.append(f"| {r['seed']} | {r['corr_beams']:g} | {r['beam_px']:.2f} | {r['channel_khz']:g} | {r['n_true']} | "
                     + " | ".join(f"{_fmt(r[m]['score'], 1)} | {r[m]['n_det']} | {r[m]['n_match']} | "
                                  f"{_fmt(r[m]['purity'])} | {_fmt(r[m]['completeness_snr10'])}" for m in methods) + " |")
    lines += ["", "By S/N bin (completeness: truth integrated S/N; purity: the detection's measured S/N)", "",
              "| S/N | n true | " + " | ".join(f"{m} compl. | {m} n det | {m} purity" for m in methods) + " |",
              "|" + "---|" * (2 + 3 * len(methods))]
    first = summary["pooled"][methods[0]]["by_snr"]
    for b, row in enumerate(first):
        lines.append(f"| {row['bin']} | {row['n_true']} | " + " | ".join(
            f"{_fmt(summary['pooled'][m]['by_snr'][b]['completeness'])} | {summary['pooled'][m]['by_snr'][b]['n_det']} | "
            f"{_fmt(summary['pooled'][m]['by_snr'][b]['purity'])}" for m in methods) + " |")
    lines += ["", "By noise correlation length ρ (noise ACF FWHM / beam FWHM)", "",
              "| ρ | cubes | n true | " + " | ".join(f"{m} compl. | {m} compl. S/N≥10 | {m} purity" for m in methods) + " |",
              "|" + "---|" * (3 + 3 * len(methods))]
    for k, rho in enumerate(CORR_BEAMS):
        row0 = summary["pooled"][methods[0]]["by_corr_beams"][k]
        lines.append(f"| {rho:g} | {row0['n_cubes']} | {row0['n_true']} | " + " | ".join(
            f"{_fmt(summary['pooled'][m]['by_corr_beams'][k]['completeness'])} | "
            f"{_fmt(summary['pooled'][m]['by_corr_beams'][k]['completeness_snr10'])} | "
            f"{_fmt(summary['pooled'][m]['by_corr_beams'][k]['purity'])}" for m in methods) + " |")
    if summary.get("noise"):
        lines += ["", "Noise-only foreign cubes: accepted detections per 1e8 voxels", "",
                  "| seed | ρ | " + " | ".join(methods) + " |", "|" + "---|" * (2 + len(methods))]
        for r in summary["noise"]:
            lines.append(f"| {r['seed']} | {r['corr_beams']:g} | "
                         + " | ".join(_fmt(r[m]["per_1e8_voxels"], 1) for m in methods) + " |")
    return "\n".join(lines) + "\n"
