"""Score the deblender, sep (FLUX_AUTO and FLUX_ISO) and the noise floor by blendedness (issue 30).

``python -m astroml_core.validate deblend-foreign [--fields 40] [--own 40] [-o FILE.json]`` runs every field
of the foreign test set (:mod:`.deblend_foreign`, a simulator written apart from ours) and, for the card's
own-simulator table, the training simulator's held-out fields (``HELD_OUT_SEEDS``, 64 × 64 px, one group).
Every method is given ``sigma=None``: it *measures* each band's sky σ from the pixels, as on a user's image.
Fluxes are scored on galaxies with r-band matched-filter S/N ``snr_r`` = √(Σ s_r²) / σ_r ≥ 20, matched to
the truth within 3 px; the noise floor (fluxes fitted with every galaxy's true shape) is scored on the
galaxies the model found. The foreign set is for testing only: nothing here may train or tune anything.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np

from .json_out import write_json

__all__ = ["BLEND_BINS", "METHODS", "SNR_MIN", "MATCH_PX", "TARGETS", "EvalField", "foreign_field", "own_field",
           "snr_r", "score_field", "bin_tables", "verdict", "run", "markdown_tables", "write_json"]

SNR_MIN = 20.0
MATCH_PX = 3.0
METHODS = ("model", "sep_auto", "sep_iso")
FLUX_METHODS = METHODS + ("floor",)
# (label, lower bound exclusive except the first, upper bound inclusive)
BLEND_BINS = (("isolated ≤ 0.1", -math.inf, 0.1), ("0.1–0.3", 0.1, 0.3), ("0.3–0.6", 0.3, 0.6),
              ("> 0.6", 0.6, math.inf), ("blended > 0.1", 0.1, math.inf))
ISOLATED, BLENDED = BLEND_BINS[0][0], BLEND_BINS[-1][0]
TARGETS = dict(isolated_vs_floor=1.3, isolated_bias=0.02, blend_vs_sep=0.6, blend_vs_floor=1.5)


@dataclass
class EvalField:
    """One field as the runner needs it: noisy bands, noiseless galaxies, truth, true σ, the floor's fluxes."""

    seed: int
    images: np.ndarray            # (band, y, x)
    isolated: np.ndarray          # (galaxy, band, y, x), noiseless
    truth: object                 # QTable: x, y, flux_<band>, blendedness (+ snr_r, kind on the foreign set)
    sigma: np.ndarray             # (band,) true sky σ
    bands: tuple
    wcs: object
    pixel_arcsec: float
    psf_fwhm_arcsec: tuple
    floor: np.ndarray             # (galaxy, band) known-shape fluxes
    simulate_s: float = 0.0


def snr_r(isolated: np.ndarray, sigma, bands) -> np.ndarray:
    """Each galaxy's matched-filter S/N in r: √(Σ s_r²) / σ_r of its noiseless r image."""
    b = list(bands).index("r")
    return np.sqrt((isolated[:, b].astype(np.float64) ** 2).sum(axis=(1, 2))) / float(np.asarray(sigma)[b])


def foreign_field(seed: int) -> EvalField:
    """A field of the foreign test set (:func:`.deblend_foreign.simulate_foreign_field`) and its noise floor."""
    from .deblend_foreign import noise_floor, simulate_foreign_field

    t0 = time.perf_counter()
    f = simulate_foreign_field(seed)
    sim_s = time.perf_counter() - t0
    return EvalField(seed, f.images, f.isolated, f.truth, np.asarray(f.sigma, float), tuple(f.bands), f.wcs,
                     float(f.pixel_arcsec), tuple(f.psf_fwhm_arcsec), np.asarray(noise_floor(f), float), sim_s)


def own_field(seed: int) -> EvalField:
    """A held-out field of the training simulator (64 × 64 px, one group) with the same floor."""
    from ..metrics.deblend import known_shape_fluxes
    from ..sim.blends import simulate_blends

    t0 = time.perf_counter()
    sim = simulate_blends(seed)
    sim_s = time.perf_counter() - t0
    cfg = sim.config
    return EvalField(seed, sim.images, sim.isolated, sim.truth, np.asarray(cfg.sky_sigma, float), tuple(cfg.bands),
                     sim.wcs, cfg.pixel_arcsec, tuple(cfg.psf_fwhm_arcsec),
                     known_shape_fluxes(sim.isolated, sim.images), sim_s)


def _galaxies(field: EvalField) -> np.ndarray:
    """Truth rows that are galaxies (every row where the truth has no ``kind``)."""
    if "kind" not in field.truth.colnames:
        return np.ones(len(field.truth), bool)
    kind = np.char.lower(np.asarray(field.truth["kind"]).astype(str))
    return kind != "star"


def _field_snr(field: EvalField) -> np.ndarray:
    if "snr_r" in field.truth.colnames:
        return np.asarray(field.truth["snr_r"], float)
    return snr_r(field.isolated, field.sigma, field.bands)


def _relative_errors(truth, found, bands) -> tuple[np.ndarray, dict]:
    """(found? per truth row, {band: Δf/f per truth row, NaN where missed}) for one catalogue."""
    hit = np.full(len(truth), -1)
    for f, t in _match(truth, found).items():
        hit[t] = f
    found_mask = hit >= 0
    rel = {}
    for b in bands:
        flux = np.full(len(truth), np.nan)
        flux[found_mask] = np.asarray(found[f"flux_{b}"], float)[hit[found_mask]]
        rel[b] = flux / np.asarray(truth[f"flux_{b}"], float) - 1
    return found_mask, rel


def _match(truth, found) -> dict[int, int]:
    from ..metrics.deblend import match_sources

    return match_sources(truth, found, MATCH_PX)


def _notes(field: EvalField, result, sigma: np.ndarray) -> list[str] | str:
    """The model's notes for this field as the app would give them (pixels, PSF, brightness and, when the card
    has one, the residual fit check on the pixels); an error string when the notes cannot be made."""
    from ..tasks.deblend.notes import model_notes

    image = SimpleNamespace(pixel_arcsec=field.pixel_arcsec, psf_fwhm_arcsec=field.psf_fwhm_arcsec, data=field.images)
    try:
        return list(model_notes(image, result, sigma))
    except Exception as exc:        # noqa: BLE001 - recorded, never fatal to the run
        return f"{type(exc).__name__}: {exc}"


def _run_methods(field: EvalField, model) -> tuple[dict, dict, object, np.ndarray]:
    """({method: catalogue}, {method: seconds}, the model's result, the σ it measured); every method measures σ."""
    from ..tasks.deblend.classic import sep_deblend, sep_isophotal
    from ..tasks.deblend.detection import band_noise
    from ..tasks.deblend.model import model_deblend

    seconds, cats = {}, {}
    t0 = time.perf_counter()
    result = model_deblend(field.images, field.bands, model, wcs=field.wcs, sigma=None)
    seconds["model"] = time.perf_counter() - t0
    cats["model"] = result.catalogue
    for name, finder in (("sep_auto", sep_deblend), ("sep_iso", sep_isophotal)):
        t0 = time.perf_counter()
        cats[name] = finder(field.images, field.bands, field.wcs, None)[0]
        seconds[name] = time.perf_counter() - t0
    return cats, seconds, result, band_noise(field.images)


def score_field(field: EvalField, model) -> tuple[dict, dict]:
    """Run every method on one field: (JSON record, per-galaxy arrays for pooling: blendedness, snr_r, galaxy?,
    found per method, Δf/f per method and band, floor's Δf/f on the galaxies the model found)."""
    cats, seconds, result, measured = _run_methods(field, model)
    truth = field.truth
    raw = dict(blendedness=np.asarray(truth["blendedness"], float), snr_r=_field_snr(field), galaxy=_galaxies(field),
               found={}, rel={})
    for name, cat in cats.items():
        raw["found"][name], raw["rel"][name] = _relative_errors(truth, cat, field.bands)
    model_found = raw["found"]["model"]
    raw["found"]["floor"] = model_found
    raw["rel"]["floor"] = {b: np.where(model_found, field.floor[:, i] / np.asarray(truth[f"flux_{b}"], float) - 1,
                                       np.nan) for i, b in enumerate(field.bands)}
    notes = _notes(field, result, measured)
    record = dict(seed=field.seed, n_true=len(truth), n_scored=int((raw["galaxy"] & (raw["snr_r"] >= SNR_MIN)).sum()),
                  n_found={m: len(c) for m, c in cats.items()},
                  sigma_measured_over_true=[round(float(m / s), 4) for m, s in zip(measured, field.sigma)],
                  simulate_s=round(field.simulate_s, 3), seconds={m: round(s, 3) for m, s in seconds.items()},
                  notes=notes)
    return record, raw


def _pool(raws: list[dict]) -> dict:
    """The per-galaxy arrays of every field joined."""
    out = {k: np.concatenate([r[k] for r in raws]) for k in ("blendedness", "snr_r", "galaxy")}
    out["found"] = {m: np.concatenate([r["found"][m] for r in raws]) for m in raws[0]["found"]}
    out["rel"] = {m: {b: np.concatenate([r["rel"][m][b] for r in raws]) for b in raws[0]["rel"][m]}
                  for m in raws[0]["rel"]}
    return out


def _stats(e: np.ndarray) -> dict:
    """Median |Δf/f|, median Δf/f (bias) and MAPE (mean |Δf/f|) of the finite values."""
    e = e[np.isfinite(e)]
    if not e.size:
        return dict(n=0, median_abs=None, bias=None, mape=None)
    return dict(n=int(e.size), median_abs=float(np.median(np.abs(e))), bias=float(np.median(e)),
                mape=float(np.mean(np.abs(e))))


def _in_bin(beta: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (beta <= hi) & (beta > lo)


def bin_tables(pooled: dict, bands) -> list[dict]:
    """One row per blendedness bin (galaxies with snr_r ≥ SNR_MIN): n, completeness per method, and per band
    per method (floor: on the galaxies the model found) median |Δf/f|, bias and MAPE; ``all`` pools the bands."""
    keep = pooled["galaxy"] & (pooled["snr_r"] >= SNR_MIN)
    rows = []
    for label, lo, hi in BLEND_BINS:
        sel = keep & _in_bin(pooled["blendedness"], lo, hi)
        row = dict(bin=label, n=int(sel.sum()),
                   completeness={m: float(pooled["found"][m][sel].mean()) if sel.any() else None for m in METHODS},
                   flux={})
        for m in FLUX_METHODS:
            per = {b: _stats(pooled["rel"][m][b][sel]) for b in bands}
            per["all"] = _stats(np.concatenate([pooled["rel"][m][b][sel] for b in bands]))
            row["flux"][m] = per
        rows.append(row)
    return rows


def _ratio(a, b):
    return float(a / b) if a is not None and b not in (None, 0) else None


def verdict(rows: list[dict], bands) -> dict:
    """Issue 30's numbers: isolated model median |Δf/f| / floor's and bias; blended model MAPE / best sep MAPE
    and / floor MAPE; completeness model vs sep; ``pass`` per figure against :data:`TARGETS`."""
    by = {r["bin"]: r for r in rows}
    iso, blend = by[ISOLATED]["flux"], by[BLENDED]["flux"]
    out = dict(targets=TARGETS, isolated={}, blended={},
               completeness={k: dict(by[k]["completeness"], n=by[k]["n"]) for k in (ISOLATED, BLENDED)})
    for b in tuple(bands) + ("all",):
        vs_floor = _ratio(iso["model"][b]["median_abs"], iso["floor"][b]["median_abs"])
        bias = iso["model"][b]["bias"]
        out["isolated"][b] = dict(model_over_floor=vs_floor, bias=bias,
                                  ok=None if vs_floor is None or bias is None else
                                  bool(vs_floor <= TARGETS["isolated_vs_floor"] and abs(bias) <= TARGETS["isolated_bias"]))
        seps = [blend[m][b]["mape"] for m in ("sep_auto", "sep_iso") if blend[m][b]["mape"] is not None]
        vs_sep = _ratio(blend["model"][b]["mape"], min(seps) if seps else None)
        vs_fl = _ratio(blend["model"][b]["mape"], blend["floor"][b]["mape"])
        out["blended"][b] = dict(model_over_best_sep=vs_sep, model_over_floor=vs_fl,
                                 ok=None if vs_sep is None or vs_fl is None else
                                 bool(vs_sep <= TARGETS["blend_vs_sep"] and vs_fl <= TARGETS["blend_vs_floor"]))
    return out


def _timing(records: list[dict]) -> dict:
    """Median and max seconds per field of each method and of the simulator."""
    out = {}
    for m in records[0]["seconds"]:
        s = [r["seconds"][m] for r in records]
        out[m] = dict(median=round(float(np.median(s)), 3), max=round(float(np.max(s)), 3), total=round(float(np.sum(s)), 2))
    sim = [r["simulate_s"] for r in records]
    out["simulate"] = dict(median=round(float(np.median(sim)), 3), total=round(float(np.sum(sim)), 2))
    return out


def _note_counts(records: list[dict]) -> dict:
    """Fields with at least one off-grid note, with none, and where the notes raised."""
    errors = sum(isinstance(r["notes"], str) for r in records)
    noted = sum(isinstance(r["notes"], list) and bool(r["notes"]) for r in records)
    return dict(fields=len(records), with_note=noted, without=len(records) - noted - errors, errors=errors)


def run(seeds, *, source: str | Callable[[int], EvalField] = "foreign", model=None,
        progress: Callable[[str], None] = lambda msg: None) -> dict:
    """Score the fields ``seeds`` (``source`` "foreign", "own" or a seed → :class:`EvalField` function) and
    return the summary: per-field records, bin tables, verdict, timings, note counts and ``markdown``."""
    make = {"foreign": foreign_field, "own": own_field}.get(source, source) if isinstance(source, str) else source
    if not callable(make):
        raise ValueError(f"unknown source '{source}'; choose foreign or own")
    if not len(seeds):
        raise ValueError("no fields to score")
    if model is None:
        from ..registry import load_model

        model = load_model("deblend_unet")
    records, raws, bands = [], [], None
    for seed in seeds:
        field = make(int(seed))
        bands = field.bands
        rec, raw = score_field(field, model)
        records.append(rec)
        raws.append(raw)
        progress(f"field {seed}: {rec['n_scored']} scored galaxies, model {rec['n_found']['model']} found in "
                 f"{rec['seconds']['model']:.2f} s, sep {rec['n_found']['sep_auto']}")
    rows = bin_tables(_pool(raws), bands)
    summary = dict(test_set=source if isinstance(source, str) else getattr(source, "__name__", "custom"),
                   seeds=[int(s) for s in seeds], bands=list(bands), snr_min=SNR_MIN, match_px=MATCH_PX,
                   sigma="measured from the pixels by every method (sigma=None), as on a user's image",
                   fields=records, tables=rows, verdict=verdict(rows, bands), timing=_timing(records),
                   notes=_note_counts(records))
    summary["markdown"] = markdown_tables(summary)
    return summary


def _fmt(x, digits: int = 3, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{100 * x:+.1f} %" if pct else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _flux_lines(summary: dict) -> list[str]:
    names = dict(model="model", sep_auto="sep AUTO", sep_iso="sep ISO", floor="floor")
    lines = []
    for b in summary["bands"] + ["all"]:
        lines += ["", f"Band {b}: median |Δf/f| / bias (median Δf/f) / MAPE (floor: on the galaxies the model found)", "",
                  "| blendedness | n | " + " | ".join(names[m] for m in FLUX_METHODS) + " |",
                  "|" + "---|" * (2 + len(FLUX_METHODS))]
        for r in summary["tables"]:
            cells = []
            for m in FLUX_METHODS:
                s = r["flux"][m][b]
                cells.append(f"{_pct(s['median_abs'])} / {_fmt(s['bias'], pct=True)} / {_pct(s['mape'])}"
                             if m != "floor" else f"{_pct(s['median_abs'])} / – / {_pct(s['mape'])}")
            lines.append(f"| {r['bin']} | {r['n']} | " + " | ".join(cells) + " |")
    return lines


def markdown_tables(summary: dict) -> str:
    """Completeness and flux tables by blendedness, the verdict against issue 30's targets, timing and notes."""
    t, v, nc = summary["timing"], summary["verdict"], summary["notes"]
    seeds = summary["seeds"]
    lines = [f"{summary['test_set']} fields {seeds[0]}–{seeds[-1]} ({len(seeds)}): galaxies with snr_r ≥ "
             f"{summary['snr_min']:g}, matched within {summary['match_px']:g} px; σ measured from the pixels.", "",
             "| blendedness | n | model compl. | sep compl. |", "|---|---|---|---|"]
    for r in summary["tables"]:
        c = r["completeness"]
        lines.append(f"| {r['bin']} | {r['n']} | {_fmt(c['model'])} | {_fmt(c['sep_auto'])} |")
    lines += _flux_lines(summary)
    lines += ["", "Verdict (targets: isolated median |Δf/f| ≤ 1.3 × floor and bias within ±2 %; blended MAPE ≤ 0.6 × "
              "the better sep and ≤ 1.5 × floor)", "",
              "| band | isolated model/floor | isolated bias | ok | blended model/best sep | blended model/floor | ok |",
              "|---|---|---|---|---|---|---|"]
    for b in summary["bands"] + ["all"]:
        i, bl = v["isolated"][b], v["blended"][b]
        lines.append(f"| {b} | {_fmt(i['model_over_floor'], 2)} | {_fmt(i['bias'], pct=True)} | "
                     f"{'yes' if i['ok'] else 'no'} | {_fmt(bl['model_over_best_sep'], 2)} | "
                     f"{_fmt(bl['model_over_floor'], 2)} | {'yes' if bl['ok'] else 'no'} |")
    lines += ["", f"Seconds per field (median / max): model {t['model']['median']:.2f} / {t['model']['max']:.2f}, "
              f"sep AUTO {t['sep_auto']['median']:.2f}, sep ISO {t['sep_iso']['median']:.2f}. "
              f"Off-grid notes: {nc['with_note']} of {nc['fields']} fields got one"
              + (f" ({nc['errors']} raised)" if nc["errors"] else "") + "."]
    return "\n".join(lines) + "\n"
