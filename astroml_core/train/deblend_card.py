"""Train → evaluate against sep and photutils → write the deblend_unet weights and model card."""
from __future__ import annotations

import json
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..registry import write_card
from ..tasks.deblend.notes import TOLERANCE
from ..sim.blends import BlendConfig
from .deblend_domain import covered_domain, fit_check_limits, training_peak_snr_max
from .markdown import cell, span, table
from .shipping import model_folder
from .deblend import (BESIDE_PX, CLOSE_PX, HELD_OUT_SEEDS, PAIR_SEEDS, STAGES, TRAIN_SEED0, TUNING_SEEDS, TrainConfig,
                      blendedness_agreement, error_coverage, evaluate, evaluate_pairs, fit, flux_error_samples, mape_table,
                      pair_rows, quoted_coverage, unrecognised_rows)

__all__ = ["run", "train_weights"]

NAME = "deblend_unet"
MIN_SNR = 10.0


def _rounded(d: dict) -> dict:
    return {k: (None if not np.isfinite(v) else round(float(v), 4)) for k, v in d.items()}


def _table(score) -> str:
    return table(["blendedness", "galaxies", "completeness", "mean IoU", "median bias", "MAPE", "σ_MAD"],
                 [[span(r["blend_min"], r["blend_max"]), r["n_true"]]
                  + [cell(r[c]) for c in ("completeness", "mean_iou", "bias", "mape", "sigma_mad")]
                  for r in score.table()])


def _snr_table(rows: list[dict]) -> str:
    return table(["S/N", "galaxies", "found by both", "model", "sep", "photutils", "model, same", "sep, same",
                  "noise floor"],
                 [[span(r["snr_min"], r["snr_max"]), r["n"], r["n_both"]]
                  + [cell(r[f"mape_{c}"]) for c in ("model", "sep", "photutils", "model_same", "sep_same", "floor")]
                  for r in rows])


RECORD = "train_record.json"


def train_weights(cfg: TrainConfig, folder: Path, start: Path | None = None) -> None:
    """Fit the Deblender and save ``weights.pt`` with ``train_record.json`` (config, steps, seconds,
    device) in ``folder``: the step a GPU machine runs; the evaluation and card can follow anywhere.
    With ``start`` (a folder this wrote), training goes on from its weights and the record keeps its
    record as ``previous``: the stages of a fine-tuned model."""
    import torch

    previous = json.loads((start / RECORD).read_text()) if start else None
    init = torch.load(start / "weights.pt", map_location="cpu", weights_only=True) if start else None
    model, record = fit(cfg, start=init)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "weights.pt")
    record = dict(config=asdict(cfg), **record, **({"previous": previous} if previous else {}))
    (folder / RECORD).write_text(json.dumps(record, indent=1))


def _stage_text(stage: dict) -> str:
    """One training stage in words: steps, rate, what trained and where."""
    c = stage["config"]
    close = (f"{c['close_share']:.0%} of the detector's fields with a pair closer than {CLOSE_PX:g} px, "
             f"target σ {c['heat_sigma']:g} px") if c.get("close_share") else ""
    what = ("the detector alone" if c.get("detector_only") else "both networks") + (f", {close}" if close else "")
    what += ", fields in randomised domains" if c.get("domains") else ""
    return f"{stage['steps']:,} steps at {c['lr']:g}, {what}, on {stage['device']}"


def _stages(record: dict) -> list[dict]:
    """The training records of a model's stages, first to last (each without its ``previous``)."""
    earlier = _stages(record["previous"]) if "previous" in record else []
    return earlier + [{k: v for k, v in record.items() if k != "previous"}]


def _load(folder: Path):
    """The Deblender saved in ``folder`` (eval mode, CPU) and its training record."""
    import torch

    from ..models.deblend_unet import Deblender

    record = json.loads((folder / RECORD).read_text())
    model = Deblender(width=record["config"]["width"], depth=record["config"]["depth"])
    model.load_state_dict(torch.load(folder / "weights.pt", map_location="cpu", weights_only=True))
    return model.eval(), record


def _pair_table(rows: list[dict]) -> str:
    return table(["S/N ≥", "galaxies", "model found", "model IoU", "model bias", "model MAPE", "sep found", "sep MAPE",
                  "noise floor"],
                 [[r["snr_min"], r["n"]] + [cell(r[c]) for c in ("model_completeness", "model_mean_iou", "model_bias",
                                                                  "model_mape", "sep_completeness", "sep_mape",
                                                                  "floor_mape")] for r in rows])


def _unrecognised_section(ev: dict) -> tuple[dict, str]:
    """Front matter and card text on unrecognised blends: where the missed galaxies lie, and the figures of
    blended galaxies beside one against the others."""
    cfg = BlendConfig()
    nearest = ev["missed_nearest"]
    median_px = float(np.median(nearest)) if nearest.size else float("nan")
    fwhm_px = float(np.mean(cfg.psf_fwhm_arcsec)) / cfg.pixel_arcsec
    rows = unrecognised_rows(ev)
    front = dict(radius_px=BESIDE_PX, missed=int(nearest.size), missed_nearest_median_px=round(median_px, 2), rows=rows)
    everyone, beside = rows[0], rows[1]
    share = beside["n_found"] / max(everyone["n_found"], 1)
    error_share = (beside["mape"] or 0) * beside["n_found"] / max((everyone["mape"] or 0) * everyone["n_found"], 1e-12)
    body = table(["blended galaxies", "galaxies", "found", "mean IoU", "median bias", "MAPE", "noise floor MAPE"],
                 [[r["group"], r["n"], cell(r["completeness"], ".3f"), cell(r["mean_iou"], ".3f"), cell(r["bias"], "+.3f"),
                   cell(r["mape"], ".3f"), cell(r["floor_mape"], ".3f")] for r in rows])
    total = len(ev["scores"]["model"].found)
    text = f"""The detector misses {nearest.size} of the {total} held-out galaxies (S/N ≥ {MIN_SNR:g}); they lie a median {median_px:.1f} px
({median_px * cfg.pixel_arcsec:.2f}″, {median_px / fwhm_px:.1f} of the PSF FWHM) from another galaxy. These are
unrecognised blends: the neighbour that was found takes their light. The {share:.0%} of found blended galaxies
within {BESIDE_PX * cfg.pixel_arcsec:g}″ ({BESIDE_PX:g} px) of a missed galaxy carry {error_share:.0%} of the absolute flux error:

{body}"""
    return front, text


def _flux_error_section(model, held_out: dict, held_out_seeds, tuning_seeds) -> tuple[dict, str]:
    """Calibrate the flux errors on the tuning fields, score their coverage on the held-out ones (``held_out``:
    :func:`flux_error_samples` of ``held_out_seeds``): the card's front-matter entry (which
    :func:`~astroml_core.tasks.deblend.run.deblend` reads) and its text."""
    from ..tasks.deblend.classic import photutils_deblend, sep_deblend
    from ..tasks.deblend.errors import FluxErrorModel, calibrate

    cal = flux_error_samples(model, tuning_seeds)
    errors = FluxErrorModel.from_dict(calibrate(cal["beta"], cal["snr"], cal["rel"]).to_dict())   # as shipped: rounded
    coverage = error_coverage(errors, held_out)
    held_out = dict(held_out, quoted=errors.relative(held_out["beta"], held_out["snr"]))
    quoted = {"model": quoted_coverage(held_out), **{name: quoted_coverage(flux_error_samples(None, held_out_seeds, finder))
                                                     for name, finder in (("sep", sep_deblend), ("photutils", photutils_deblend))}}
    front = dict(errors.to_dict(), calibration_seeds=[tuning_seeds[0], tuning_seeds[-1]], calibration_fluxes=int(cal["rel"].size),
                 held_out_coverage=coverage, held_out_blended_quoted_coverage=quoted)
    snr_edges = errors.snr_edges
    grid = table(["blendedness \\ band S/N"] + [span(lo, hi) for lo, hi in zip(snr_edges[:-1], snr_edges[1:])],
                 [[span(lo, hi)] + [f"{v:.3f}" for v in row]
                  for (lo, hi), row in zip(zip(errors.beta_edges[:-1], errors.beta_edges[1:]), errors.relative_sigma)])
    cover = table(["blendedness", "fluxes", "within 1σ", "within 2σ"],
                  [["all" if k == 0 else span(r["beta_min"], r["beta_max"]),
                    r["n"], cell(r["within_1sigma"], ".3f"), cell(r["within_2sigma"], ".3f")] for k, r in enumerate(coverage)])
    quoted_table = table(["method", "fluxes", "within 1σ", "within 2σ"],
                         [[name, q["n"], cell(q["within_1sigma"], ".3f"), cell(q["within_2sigma"], ".3f")]
                          for name, q in quoted.items()])
    text = f"""The network's fluxes come with `flux_err_<band>`: the 68th percentile of |measured / true − 1| over
{cal['rel'].size:,} fluxes of the galaxies it matched on {len(tuning_seeds)} tuning fields (seeds {tuning_seeds[0]}–{tuning_seeds[-1]}, neither
training nor held-out), by its own blendedness (rows) and the band's S/N of its deblended image (columns;
cells with fewer than 20 fluxes take their row's nearest filled cell), times the flux:

{grid}

Their coverage on the held-out fields (every matched galaxy, every band; a Gaussian would put 68 % within
1σ and 95 % within 2σ: these errors have heavier tails):

{cover}

sep and photutils quote the sky noise in their Kron apertures (SExtractor's FLUXERR_AUTO; the simulated
images carry sky noise only), which knows nothing of the neighbours' light. On the
held-out blended galaxies (true β > 0.1) each method matched, the share of fluxes within the method's own
quoted errors:

{quoted_table}"""
    return front, text


def _domain_text(covered: dict, check) -> str:
    """What the training fields covered and when the notes fire, in words."""
    from ..sim.blend_domains import TRAINING_DOMAIN as D

    px, fwhm = covered["pixel_arcsec"], covered["psf_fwhm_arcsec"]
    if covered["randomised"]:
        what = (f"fields drawn from a randomised domain (`sim.blend_domains.TRAINING_DOMAIN`): pixels {px[0]:g}–{px[1]:g}″, "
                f"PSF FWHM {fwhm[0]:g}–{fwhm[1]:g}″ ({', '.join(D['psf_families'])}), each band's depth shifted by up to "
                f"±{D['depth_spread_mag']:g} mag, single Sérsic galaxies (n {D['sersic_n'][0]:g}–{D['sersic_n'][1]:g}) beside bulge + "
                f"disc ones, stars ({D['star_share']:.0%} of objects)")
    else:
        what = (f"the default fields only: {px[0]:g}″ pixels, Moffat PSFs (β 3.5) of FWHM {fwhm[0]:g}–{fwhm[1]:g}″, bulge + "
                "disc galaxies, one depth (the randomised stage `DOMAIN_STAGE` in `astroml_core/train/deblend.py` waits "
                "for a GPU: 552 steps on 2 CPU cores made the splitter worse)")
    return f"""The shipped weights were trained on {what}. Their brightest pixel is {covered['peak_snr_max']:.0f}σ in the
S/N-weighted band sum.

The page and `astroml deblend` add a note when an image's pixel scale or PSF FWHM lies more than
{TOLERANCE:.0%} outside these values, when a source's centre is brighter than that, or when more than {check.max_share:.0%} of its
sources (at least {check.min_count}) leave more residual χ² per footprint pixel than {check.quantile:.0%} of the sources of the
same S/N on 100 training-like tuning fields (limits by S/N bin: {", ".join(f"{v:.2f}" for v in check.limits)}). Each
note quotes the foreign test set's measured errors."""


def run(quick: bool = False, keep_weights: bool = False) -> Path:
    """Build the shipped deblend_unet (or, with ``quick``, a throw-away one in a temp folder).

    ``keep_weights`` reuses the shipped weights (and their training record) and redoes only the
    evaluation and the card.
    """
    import torch

    folder = model_folder(NAME, quick)
    if not keep_weights:
        for k, cfg in enumerate([TrainConfig(n_fields=40, steps=20, batch=8, width=8)] if quick else STAGES):
            train_weights(cfg, folder, start=folder if k else None)
    model, record = _load(folder)
    stages = _stages(record)
    cfg = TrainConfig(**record["config"])
    seeds = HELD_OUT_SEEDS[:5] if quick else HELD_OUT_SEEDS
    ev = evaluate(model, seeds, MIN_SNR)
    summary = {name: _rounded(s.summary(0.1)) for name, s in ev["scores"].items()}
    floor = {k: v for k, v in _rounded(ev["floor"].summary(0.1)).items() if k in ("bias", "mape", "sigma_mad")}
    shapes_iou = _rounded(ev["shapes"].summary(0.1))["mean_iou"]
    by_snr = mape_table(ev["scores"], ev["snr"], ev["floor"])
    unrecognised, unrecognised_text = _unrecognised_section(ev)
    samples = flux_error_samples(model, seeds)          # every matched galaxy: blendedness, S/N, flux errors
    beta = blendedness_agreement(samples)
    flux_error, flux_error_text = _flux_error_section(model, samples, seeds, TUNING_SEEDS[:10] if quick else TUNING_SEEDS)
    pairs = evaluate_pairs(model, PAIR_SEEDS[:20] if quick else PAIR_SEEDS)
    by_pair = pair_rows(pairs)
    domains = any(s["config"].get("domains") for s in stages)
    peak_max = training_peak_snr_max(domains, 50 if quick else 1500)
    check = fit_check_limits(model, domains, TUNING_SEEDS[:10] if quick else TUNING_SEEDS[:100])
    covered = dict(covered_domain(domains), randomised=domains, peak_snr_max=round(peak_max, 1))
    n_params = sum(p.numel() for p in model.parameters())
    front = dict(
        name=NAME, task="deblend",
        architecture=(f"Deblender: detector U-Net (4 → 1) + splitter U-Net (6 → 4), width {cfg.width}, "
                      f"{cfg.depth} scales, {n_params:,} parameters"),
        inputs="g, r, i, z images in sky-σ units, asinh(x / 3); splitter stamps 64×64 centred on each detection",
        outputs="galaxy centres (heat-map peaks), each galaxy's noiseless image per band; flux = the data shared by the predicted images inside its footprint, the prediction outside",
        training_data=(f"{sum(s['config']['n_fields'] for s in stages)} simulated 64×64 fields of 2–6 galaxies "
                       f"(astroml_core.sim.blends, seeds {TRAIN_SEED0}–"
                       f"{TRAIN_SEED0 + max(s['config'].get('first_field', 0) + s['config']['n_fields'] for s in stages) - 1}), "
                       f"new fields in each of {len(stages)} stages"),
        command="python -m astroml_core.train deblend", seed=cfg.seed, train_config=[s["config"] for s in stages],
        train_seconds=sum(s["train_seconds"] for s in stages), train_steps=sum(s["steps"] for s in stages),
        train_device=", ".join(dict.fromkeys(s["device"] for s in stages)), train_torch=record["torch"], torch=torch.__version__, machine=platform.machine(),
        held_out_seeds=[seeds[0], seeds[-1]], held_out_selection=f"galaxies with detection S/N ≥ {MIN_SNR:g}",
        held_out_blended=summary, held_out_blended_noise_floor=floor, held_out_blended_true_shapes_iou=shapes_iou, held_out_mape_by_snr=by_snr,
        held_out_unrecognised=unrecognised, held_out_blendedness=beta, flux_error=flux_error,
        held_out_pairs=dict(seeds=[PAIR_SEEDS[0], PAIR_SEEDS[-1]], pairs=pairs["n_pairs"], by_snr=by_pair), seconds_per_64px_field=round(ev["seconds_per_field"], 4),
        training_domain=covered, fit_check=check.to_dict(),
    )
    tables = "\n\n".join(f"### {name}\n\n{_table(score)}" for name, score in
                         [*ev["scores"].items(), ("noise floor (every true shape and position known; on the galaxies the model found)", ev["floor"])])
    body = f"""
# deblend_unet — galaxy centres and deblended images on g, r, i, z

Two U-Nets ({cfg.depth} scales, width {cfg.width}): the detector marks galaxy centres on the S/N-scaled bands; for each detection the
splitter sees a 64×64 stamp centred on it (bands + a marker at its centre + markers at the other
detections) and predicts that galaxy's own noiseless image in every band. Galaxies are transparent:
light in the overlap goes to both, in the shares the splitter predicts. Photometry conserves the data's flux:
inside a galaxy's footprint (its predicted light above the 1.5σ detection isophote) each observed pixel is
shared between the galaxies in proportion to their predicted images (scarlet's re-distribution), outside it
the predicted image supplies the faint wings; its mask is where it outshines the others above that isophote.

Trained for {sum(s['steps'] for s in stages):,} steps ({sum(s['loop_seconds'] for s in stages)} s) in {len(stages)} stages,
each on new fields and starting from the last one's weights at a lower rate
({"; ".join(_stage_text(s) for s in stages)}; `STAGES` in `astroml_core/train/deblend.py`)
(`train_weights` in `astroml_core/train/deblend_card.py`; `python -m astroml_core.train deblend` runs
it on whatever device is there, then scores the weights here on the CPU).

## Held-out results ({len(seeds)} simulated fields, seeds {seeds[0]}–{seeds[-1]}; {front['held_out_selection']})

Blended galaxies (blendedness > 0.1), all bands pooled; relative flux error = measured / true − 1:

| method | completeness | mean IoU | median bias | MAPE | σ_MAD |
| --- | --- | --- | --- | --- | --- |
""" + "\n".join(f"| {n} | {s['completeness']} | {s['mean_iou']} | {s['bias']} | {s['mape']} | {s['sigma_mad']} |"
                for n, s in summary.items()) + f"""
| noise floor | — | — | {floor['bias']} | {floor['mape']} | {floor['sigma_mad']} |
| true shapes | — | {shapes_iou} | — | — | — |

The noise floor is what the noise alone costs on these blends: every galaxy's true noiseless image
(shape and position) is fitted jointly to the noisy bands with free amplitudes, by least squares — the
ideal unbiased estimate — and scored like the methods, against the true fluxes, on the galaxies the
model found. The true shapes row is the masks' counterpart: the model's mask rule applied to the true
noiseless images of the galaxies it found gives mean IoU {shapes_iou} against the model's {summary['model']['mean_iou']},
so the gap between the two is what the splitter's predicted shapes cost.

Boucaud+20's 7.4 % was measured on bright HST CANDELS pairs; most of our blended galaxies
are near the detection limit of LSST-like single visits, where the floor alone is above that.

Mean absolute percentage flux error of blended galaxies by detection S/N; "same" columns compare the
model and sep on the galaxies both of them found:

{_snr_table(by_snr)}

## Unrecognised blends

{unrecognised_text}

## Blendedness from the deblended images

The catalogue's `blendedness` is β = 1 − Σ I_k² / Σ I_k · I_all (Bosch+18, the truth's definition) on the
r + i deblended images, so a blend can be judged without truth. Over the {beta['n']} held-out galaxies the
model matched (every S/N): Spearman ρ {beta['spearman']:.3f} with the true β, median |difference|
{beta['median_abs_diff']:.3f}, {beta['same_bin']:.0%} in the same bin of the tables below, {beta['blended_agree']:.0%}
agreeing on whether β > 0.1.

## Flux uncertainties

{flux_error_text}

## By blendedness

{tables}

## Held-out pairs, as Boucaud+20 built theirs

{pairs['n_pairs']} fields of two galaxies less than 2 mag apart in i, the second at one to five
observed radii from the first (seeds {PAIR_SEEDS[0]}–{PAIR_SEEDS[-1]}, fields with Δmag ≥ 2 skipped);
blended galaxies (blendedness > 0.1) above each detection S/N, all bands pooled:

{_pair_table(by_pair)}

Time per 64×64 field (detect + split + measure, this machine, {torch.get_num_threads()} threads):
{ev['seconds_per_field']:.3f} s.

## Training domain and the notes

{_domain_text(covered, check)}

## Caveats
Trained on our GalSim simulator only ({"bulge + disc and single Sérsic galaxies, stars, Moffat, Kolmogorov and double-Gaussian PSFs" if domains else "bulge + disc galaxies, Moffat PSFs of one shape"},
Gaussian sky noise): no artefacts, irregular or clumpy galaxies, correlated noise or PSF variation across the
field. The foreign test set below (another simulator, written apart) and the real-file corpus measure what
that costs.
"""
    front = json.loads(json.dumps(front, default=str))
    write_card(NAME, front, body, folder.parent)
    print(f"wrote {folder}/weights.pt and card.md")
    return folder
