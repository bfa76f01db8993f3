"""Train → evaluate held-out → write the spectra_net weights and model card."""
from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..data.spectrum_resample import MIN_COVERAGE
from ..registry import write_card
from ..sim.spectra import CLASSES, SNR_RANGE
from ..tasks.spectra.model import NAME
from .shipping import model_folder, trained_or_kept
from .markdown import cell, span, table
from .spectra import (HELD_OUT_SEED, HELD_OUT_UNEXPECTED_SEED, TRAIN_DOMAIN_SEED, TRAIN_SEED, VALID_DOMAIN_SEED,
                      VALID_SEED, WARM_START, TrainConfig, calibrate_unknown, domain_share, evaluate, fit)

__all__ = ["run"]


def _confusion_table(cm: np.ndarray) -> str:
    short = [c.replace("GALAXY_", "G_").replace("STAR_", "").replace("QSO_", "Q_") for c in CLASSES]
    rows = []
    for i, c in enumerate(CLASSES):
        frac = cm[i] / max(cm[i].sum(), 1)
        rows.append([f"**{c}**"] + [f"{cm[i, j]}" + (f" ({frac[j]:.2f})" if i == j else "") for j in range(len(CLASSES))])
    return table(["true \\ predicted"] + short, rows)


def _held_out_front(ev: dict) -> dict:
    out = dict(macro_accuracy=round(ev["macro_accuracy"], 4), accuracy=round(ev["accuracy"], 4),
               ece=round(ev["ece"], 4), anomaly_auroc=round(ev["anomaly_auroc"], 4),
               anomaly_auroc_by_kind={k: round(v["auroc"], 4) for k, v in ev["anomaly_by_kind"].items()})
    if "unknown_rate_normal" in ev:
        out.update(unknown_rate_normal=round(ev["unknown_rate_normal"], 4),
                   unknown_rate_unexpected=round(ev["unknown_rate_unexpected"], 4),
                   unknown_rate_by_kind={k: round(v, 4) for k, v in ev["unknown_rate_by_kind"].items()},
                   unknown_rate_by_class={k: round(v, 4) for k, v in ev["unknown_rate_by_class"].items()})
    return out


def _worst(ev: dict) -> str:
    """The class the anomaly threshold flags most often, and how often."""
    cls, rate = max(ev["unknown_rate_by_class"].items(), key=lambda kv: kv[1])
    return f"{cls} {rate:.1%}"


def _training_domain(cfg: TrainConfig) -> dict:
    """What the training spectra spanned, for the card's front matter."""
    base = dict(simulator="astroml_core.sim.spectra (SDSS-like: R ~ 2,000 templates, full 3,800–9,200 Å, "
                          "no tilt, one noise model)", snr=list(SNR_RANGE))
    if not cfg.domains:
        return dict(base, randomised_share=0.0)
    from ..sim.spectra_domains import TRAINING_DOMAIN

    return dict(base, randomised_share=domain_share(cfg), randomised="astroml_core.sim.spectra_domains",
                **{k: v for k, v in TRAINING_DOMAIN.items() if k != "share"})


def _domain_text(cfg: TrainConfig) -> str:
    if not cfg.domains:
        return ""
    from ..sim.spectra_domains import TRAINING_DOMAIN as d

    return f"""
## Training domain (issue 31)
{domain_share(cfg):.0%} of the training and validation spectra come from randomised observing domains
(astroml_core.sim.spectra_domains; the rest from the default SDSS-like simulator), one draw per spectrum:
a Gaussian line-spread function of R {d['resolution'][0]:,.0f}–{d['resolution'][1]:,.0f}; the whole grid, a survey's
range (BOSS, DESI, LAMOST, 4MOST LRS) or a random cut at either end keeping ≥ {d['coverage']['min_coverage']:.0%} of
the grid (ivar 0 outside); a smooth multiplicative flux-calibration tilt of up to ±{d['tilt']['max_excursion'][1]:.0%};
sky-subtraction residuals of up to {d['sky_residual_sigma'][1]:g} σ at night-sky lines; telluric O₂ A/B and H₂O
bands uncorrected, partly corrected or corrected; the simulator's noise or Poisson + sky continuum + read
noise under another throughput; stars at ±{d['star_rv_kms'][1]:.0f} km/s, half of them from a second,
Kurucz/Phoenix-like family (log g {d['star_logg'][0]:g}–{d['star_logg'][1]:g}, [Fe/H] {d['star_feh'][0]:g} to
+{d['star_feh'][1]:g}); galaxies with a subclass at z {d['galaxy_z']['subclass'][0]:g}–
{d['galaxy_z']['subclass'][1]:g}, without one to z {d['galaxy_z']['no_subclass'][1]:g}, half of them composite (an intermediate-age population and a
weak AGN power law, ≤ {d['composite_max_share']:.0%} of the continuum beside Hα). Every class keeps its
defining quantities (T_eff bins, BPT position, EW(Hα)).
"""


def run(quick: bool = False, keep_weights: bool = False, *, domains: bool = False, output=None,
        warm_start: bool = False) -> Path:
    """Build the shipped spectra_net (or, with ``quick``, a throw-away one in a temp folder); ``domains`` trains
    on the randomised observing domains; ``output`` writes weights and card to ``<output>/spectra_net``
    instead of ``assets/models`` (a scratch run that leaves the shipped model alone); ``warm_start`` fine-tunes
    the shipped members briefly (``WARM_START``) instead of training from nothing."""
    import torch

    from ..models.spectra_nets import SpectraModel

    cfg = (TrainConfig(n_train=2600, n_valid=1300, members=2, epochs=1, vae_epochs=1, domains=domains) if quick
           else TrainConfig(domains=domains))
    base = model_folder(NAME, False) / "weights.pt"
    if warm_start:
        cfg = replace(cfg, warm_start=str(base), members=TrainConfig().members, **({} if quick else WARM_START))
    base_sha = hashlib.sha256(base.read_bytes()).hexdigest() if warm_start else None   # before a rebuild overwrites it
    if output is not None:
        folder = Path(output) / NAME
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = model_folder(NAME, quick)
    model, train_s = trained_or_kept(folder, lambda: SpectraModel(members=cfg.members), lambda: fit(cfg), keep_weights)
    unknown = calibrate_unknown(model, cfg, 1300 if quick else None)
    cuts = [unknown["anomaly_z_by_class"][c] for c in CLASSES]
    ev = evaluate(model, 60 if quick else 1000, 30 if quick else 500, unknown_z=cuts)
    ev_dom = evaluate(model, 60 if quick else 1000, 30 if quick else 500, domains=1.0, unknown_z=cuts)
    n_params = sum(p.numel() for p in model.parameters())
    cm = ev["confusion"]
    front = dict(
        name=NAME, task="spectra", classes=list(CLASSES),     # the class list the task reads, in output order
        architecture=(f"deep ensemble of {cfg.members} 1-D CNNs (8-pixel patch embedding + 3 strided convolutions, "
                      f"widths 24–64) + VAE (latent 12) + feature-space Mahalanobis; {n_params:,} parameters"),
        inputs="3,840-pixel log-λ spectra (3,800–9,200 Å), L2-normalised flux and σ; VAE: 4-pixel bins",
        outputs="13 class probabilities (temperature-scaled ensemble mean), 1 − max p, member disagreement, "
                "anomaly z-score, VAE χ² per bin, 128-d features (member 1), 12-d latent",
        training_data=(f"{cfg.n_train:,} simulated spectra (astroml_core.sim.spectra, seed "
                       f"{TRAIN_DOMAIN_SEED if cfg.domains else TRAIN_SEED}"
                       + (f"; {domain_share(cfg):.0%} from the randomised domains of astroml_core.sim.spectra_domains"
                          if cfg.domains else "") + f"), {cfg.n_valid:,} for temperature and anomaly reference "
                       f"(seed {VALID_DOMAIN_SEED if cfg.domains else VALID_SEED}, same mix)"),
        training_domain=_training_domain(cfg),
        command="python -m astroml_core.train spectra" + (" --domains" if cfg.domains else "")
                + (" --warm-start" if cfg.warm_start else ""), seed=cfg.seed,
        warm_start_sha256=base_sha,
        train_config=asdict(cfg),
        train_seconds=round(train_s), torch=torch.__version__, machine=platform.machine(),
        held_out_seeds=[HELD_OUT_SEED, HELD_OUT_UNEXPECTED_SEED], temperature=round(float(model.ensemble.temperature), 4),
        unknown=dict(unknown, min_coverage=MIN_COVERAGE,
                     rule="UNKNOWN when < min_coverage of the grid has ivar > 0, or anomaly z > anomaly_z_by_class of "
                          "the predicted class"),
        held_out=_held_out_front(ev),
        held_out_domain=dict(_held_out_front(ev_dom), seeds=list(ev_dom["seeds"])),
        confusion_matrix=cm.tolist(),
    )
    snr_rows = [[span(r["snr_min"], r["snr_max"]), r["n"], cell(r["macro_accuracy"]), cell(r["ece"])]
                for r in ev["by_snr"]]
    kind_rows = [[k, v["n"], cell(v["auroc"]), cell(v["auroc_vae"])] for k, v in ev["anomaly_by_kind"].items()]
    kind_rows.append(["all", ev["n_unexpected"], cell(ev["anomaly_auroc"]), cell(ev["anomaly_auroc_vae"])])
    body = f"""
# spectra_net — 13-class spectral classifier with uncertainties, a VAE and an anomaly score

A deep ensemble of {cfg.members} small 1-D CNNs reads L2-normalised SDSS-like spectra (flux and its σ);
their temperature-scaled softmax outputs are averaged. A VAE (latent 12) reconstructs the spectrum in
4-pixel bins. The anomaly score is feature-space novelty (Lee+2018): each member's Mahalanobis
distance to the nearest class mean (shared covariance, training spectra), log-averaged over members and
put on a robust z scale with normal validation spectra. The VAE's χ² per bin is reported beside it;
on validation unexpected spectra (seed 71001, not the held-out ones) it separated them less well
(AUROC 0.85 against 0.93) and adding it lowered the score's AUROC, so it stays out of the score. No
unexpected spectrum was used in training the networks or fitting the score.

{_domain_text(cfg)}
## Held-out results, default simulator domain ({ev['n_normal']:,} spectra of the 13 classes, seed {HELD_OUT_SEED}; {ev['n_unexpected']:,} unexpected, seed {HELD_OUT_UNEXPECTED_SEED})

| metric | value |
| --- | --- |
| macro accuracy (mean per-class recall) | {ev['macro_accuracy']:.4f} |
| accuracy | {ev['accuracy']:.4f} |
| expected calibration error (15 bins) | {ev['ece']:.4f} |
| anomaly AUROC, all unexpected kinds | {ev['anomaly_auroc']:.4f} |
| UNKNOWN (anomaly z above its class's threshold), normal spectra | {ev['unknown_rate_normal']:.2%} (most: {_worst(ev)}) |

Held-out spectra all from the randomised observing domains (seeds {ev_dom['seeds'][0]}, {ev_dom['seeds'][1]}):

| metric | value |
| --- | --- |
| macro accuracy | {ev_dom['macro_accuracy']:.4f} |
| expected calibration error | {ev_dom['ece']:.4f} |
| anomaly AUROC, all unexpected kinds | {ev_dom['anomaly_auroc']:.4f} |
| UNKNOWN (anomaly), normal spectra | {ev_dom['unknown_rate_normal']:.2%} (most: {_worst(ev_dom)}) |
| UNKNOWN (anomaly), unexpected spectra | {ev_dom['unknown_rate_unexpected']:.2%} |

The UNKNOWN threshold of each class is the {1 - unknown['target_rate']:.0%} quantile of the anomaly z of the spectra
predicted as that class, or of all spectra where that is higher, among {unknown['n']:,} normal spectra of seed {unknown['seed']} ({unknown['domain']} domain):
{", ".join(f"{c} {z:.2f}" for c, z in unknown['anomaly_z_by_class'].items())}. A spectrum with ivar > 0 on less than
{MIN_COVERAGE:.0%} of the grid is UNKNOWN whatever its score.

Median S/N per pixel of the test spectra is drawn log-uniformly in {SNR_RANGE[0]:g}–{SNR_RANGE[1]:g}. By S/N:

{table(["S/N per pixel", "spectra", "macro accuracy", "ECE"], snr_rows)}

Anomaly AUROC per unexpected kind (normal held-out spectra as negatives), for the shipped score and for
the VAE's χ² alone:

{table(["kind", "spectra", "AUROC", "VAE χ² alone"], kind_rows)}

## Confusion matrix (held-out counts; row fraction on the diagonal)

{_confusion_table(cm)}

Time to classify (ensemble + VAE + anomaly, this machine, {torch.get_num_threads()} threads):
{ev['seconds_per_1000']:.3f} s per 1,000 spectra.

## Caveats
Trained and tested on our simulator only: Planck continua with MK-type line depths, two-population
galaxies with BPT-placed nebular lines, power-law quasars with composite broad lines. Real SDSS spectra
have flux-calibration errors, reddening, binaries, peculiar abundances and template mismatch that these
do not; the 92% that GaSNet-II reaches on real SDSS spectra is the honest expectation there. Classes
are separated with a margin around each boundary (T_eff bins, BPT lines, EW(Hα) = 50 Å), which real
labels near those boundaries do not have.
"""
    front = json.loads(json.dumps(front, default=str))
    write_card(NAME, front, body, folder.parent)
    print(f"wrote {folder}/weights.pt and card.md")
    return folder
