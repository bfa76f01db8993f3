"""Train the HI source-mask U-Net from simulated cubes, choose its decision threshold, calibrate its
flux de-boosting, score it on held-out cubes against the SoFiA-style baseline, and write weights + model card.

``python -m astroml_core.train hi`` rebuilds ``assets/models/hi_unet/`` from nothing, deterministically
for a given torch build and thread count. Seeds: training cubes 20000+, validation (threshold choice)
30000+ (threshold choice and flux de-boosting), held-out evaluation 1000+ (never seen in training or
tuning; the tests use them too).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..sim.hi import HICubeConfig, simulate_hi_cube

if TYPE_CHECKING:
    from astropy.table import QTable

__all__ = ["TrainConfig", "fit", "evaluate", "fit_decision", "tuning_candidates", "tuning_cube", "deboost_sample",
           "fit_deboost", "TRAIN_SEED0", "VALID_SEED0", "HELD_OUT_SEEDS"]

TRAIN_SEED0, VALID_SEED0, NOISE_SEED0 = 20000, 30000, 25000
HELD_OUT_SEEDS = tuple(range(1000, 1024))


@dataclass(frozen=True)
class TrainConfig:
    """Training set, schedule and evaluation sizes (defaults: ~15 min on 2 CPU cores)."""

    n_cubes: int = 40
    cube: tuple[int, int, int] = (256, 128, 128)   # channels, y, x of each training cube
    density_factor: float = 6.0                    # × SDC2 density: more examples per cube
    tile: int = 64
    batch: int = 4
    steps: int = 3000
    lr: float = 2e-3
    positive_fraction: float = 0.6                 # tiles centred on a source voxel
    mask_sigma: float = 0.3                        # target: noiseless signal > this × channel noise
    n_noise: int = 8                               # pure-noise cubes among the training cubes
    n_valid: int = 32                              # tuning cubes: the decision stage and the prior noise tail
    n_deboost: int = 64                            # tuning cubes for the flux de-boosting (the n_valid above and more)
    seed: int = 0


def _training_cube(seed: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """(noise-normalised cube, target mask) for one training seed: a random beam, noise texture and
    galaxy kinematics (:mod:`.hi_data`)."""
    from .hi_data import training_cube

    n_chan, ny, nx = cfg.cube
    return training_cube(seed, n_chan, ny, nx, cfg.density_factor, cfg.mask_sigma)


def _noise_cube(seed: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """A pure-noise training cube of a random texture: nothing in it is a source."""
    from .hi_data import training_noise_cube

    norm = training_noise_cube(seed, cfg.cube)
    return norm, np.zeros(norm.shape, bool)


def tuning_cube(seed: int):
    """(data, geometry, truth) of one full-size tuning cube: random beam, noise texture and kinematics,
    as the training cubes, at the demo cube's size (so its negative candidates are as many as a real search's)."""
    from astropy.wcs import WCS

    from ..sim.hi_noise import random_noise_kind
    from ..tasks.hi.measure import CubeGeometry
    from .hi_data import PIXEL_ARCSEC, random_geometry

    rng = np.random.default_rng(seed)
    first, beam = random_geometry(rng, HICubeConfig().n_channels)
    sim = HICubeConfig(first_freq_hz=first, beam_arcsec=beam, pixel_arcsec=PIXEL_ARCSEC, kinematics="mixed",
                       noise=random_noise_kind(rng))
    data, header, truth = simulate_hi_cube(int(rng.integers(2**31)), sim)
    truth.meta["noise_kind"] = sim.noise
    geom = CubeGeometry(sim.frequencies_hz, PIXEL_ARCSEC, beam, beam, float(header["RESTFRQ"]),
                        WCS(header).celestial, float("nan"))
    return data, geom, truth


def _tiles(cubes, cfg: TrainConfig, rng: np.random.Generator):
    """A batch of (input, target) tiles with flips, as float32 arrays (B, 1, t, t, t)."""
    t = cfg.tile
    xs, ys = [], []
    for _ in range(cfg.batch):
        norm, target, positives = cubes[rng.integers(len(cubes))]
        if positives.size and rng.random() < cfg.positive_fraction:
            c = np.array(np.unravel_index(positives[rng.integers(positives.size)], target.shape))
            c = c + rng.integers(-t // 3, t // 3 + 1, 3)
        else:
            c = np.array([rng.integers(0, n) for n in target.shape])
        lo = [int(np.clip(ci - t // 2, 0, n - t)) for ci, n in zip(c, target.shape)]
        sl = tuple(slice(o, o + t) for o in lo)
        x, y = norm[sl], target[sl]
        for axis in (0, 1, 2):
            if rng.random() < 0.5:
                x, y = np.flip(x, axis), np.flip(y, axis)
        if rng.random() < 0.5:
            x, y = x.transpose(0, 2, 1), y.transpose(0, 2, 1)
        xs.append(np.ascontiguousarray(x))
        ys.append(np.ascontiguousarray(y))
    return np.stack(xs)[:, None], np.stack(ys)[:, None].astype(np.float32)


def fit(cfg: TrainConfig, progress: Callable[[str], None] = print):
    """Simulate the training set and fit the U-Net; returns the trained module (CPU, eval mode)."""
    import torch
    from torch.nn import functional as F

    from ..models.hi_unet import HIUNet
    from ..service.device import choose_device

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.time()
    cubes = []
    for i in range(cfg.n_cubes):
        norm, target = _training_cube(TRAIN_SEED0 + i, cfg)
        cubes.append((norm, target, np.flatnonzero(target)))
    for i in range(cfg.n_noise):
        norm, target = _noise_cube(NOISE_SEED0 + i, cfg)
        cubes.append((norm, target, np.zeros(0, np.int64)))
    progress(f"simulated {cfg.n_cubes} training cubes in {time.time() - t0:.0f} s; "
             f"positive voxels {np.mean([c[1].mean() for c in cubes]):.4f}")
    device = choose_device()
    model = HIUNet().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    model.train()
    running = 0.0
    for step in range(1, cfg.steps + 1):
        x, y = _tiles(cubes, cfg, rng)
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        logits = model(x)
        prob = torch.sigmoid(logits)
        bce = F.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor(3.0, device=device))
        dice = 1 - (2 * (prob * y).sum() + 1) / (prob.sum() + y.sum() + 1)
        loss = bce + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 250 == 0:
            progress(f"step {step}/{cfg.steps} loss {running:.4f} ({time.time() - t0:.0f} s)")
    return model.cpu().eval()


def _evaluate_seed(seed: int, model, geom_for, cfg_find) -> dict:
    """Model and baseline catalogues of one full-size cube, scored by ska-sdc, with the ideal flux errors."""
    from ..metrics import score_sdc2
    from ..tasks.hi.model import model_find
    from ..tasks.hi.sofia import sofia_find

    signal: list = []
    data, header, truth = simulate_hi_cube(seed, signal_out=signal)
    geom = geom_for(header)
    t = time.time()
    found, labels = model_find(data, geom, model, cfg_find)
    model_s = time.time() - t
    base, _ = sofia_find(data, geom)
    res = score_sdc2(found, truth)
    return dict(seed=seed, truth=truth, found=found, base=base, model_s=model_s, result=res,
                base_score=score_sdc2(base, truth), ideal=_ideal_flux_errors(data, signal[0], labels, found, res.matches))


def _ideal_flux_errors(data, signal, labels, found, matches: dict[int, int]) -> dict[int, float]:
    """Relative flux error of the ideal linear estimator (the noiseless source shape known) per matched source.

    Σ noise·signal / Σ signal² over the source's box (other sources' voxels left out): the noise floor
    that no flux estimator can beat on the same voxels.
    """
    from scipy import ndimage

    out = {}
    objects = ndimage.find_objects(labels)
    for row in found:
        k = int(row["id"])
        if k not in matches or k >= len(objects) or objects[k] is None:
            continue
        box = tuple(slice(max(s.start - p, 0), s.stop + p) for s, p in zip(objects[k], (12, 8, 8)))
        own = np.isin(labels[box], (0, k + 1))
        s, n = signal[box][own].astype(float), (data[box] - signal[box])[own].astype(float)
        if s @ s > 0:
            out[matches[k]] = float(n @ s / (s @ s))
    return out


def tuning_candidates(model, seeds) -> tuple[np.ndarray, np.ndarray, int]:
    """Features of the positive candidates that ska-sdc matches to a true source and of every negative
    candidate (noise), over the tuning cubes, and the voxels searched: what the decision stage separates
    and what the prior noise tail counts. Cubes with continuum-subtraction residuals are left out: their
    residual lobes look like sources to every feature (of either sign), so they would only teach the
    ranking to ignore S/N; each cube's own calibration deals with them."""
    from dataclasses import replace

    from ..metrics import score_sdc2
    from ..tasks.hi.measure import measure_sources
    from ..tasks.hi.model import ModelConfig, score_candidates
    from ..tasks.hi.noise import normalise

    good, noise, voxels = [], [], 0
    for seed in seeds:
        data, geom, truth = tuning_cube(seed)
        if truth.meta["noise_kind"].n_residuals:
            continue
        norm, sigma = normalise(data)
        (pos, f_pos), (_, f_neg) = score_candidates(norm, geom, model, ModelConfig())
        voxels += norm.size
        noise.append(f_neg)
        if pos.n:
            table = measure_sources(data, pos.labels, replace(geom, noise=float(np.median(sigma))))
            matched = np.isin(np.asarray(table["id"]), list(score_sdc2(table, truth).matches))
            good.append(f_pos[matched])
    return np.vstack(good), np.vstack(noise), voxels


def deboost_sample(model, seeds, config) -> tuple[QTable, np.ndarray]:
    """The disc-fitted tuning detections accepted at the card's threshold and matched by ska-sdc (scored as
    the held-out catalogues are), and their true fluxes (Jy Hz): the sources whose flux boosting the card's
    de-boosting undoes."""
    from astropy.table import vstack

    from ..metrics import score_sdc2
    from ..tasks.hi.deboost import disc_fitted
    from ..tasks.hi.model import model_find

    rows, true = [], []
    for seed in seeds:
        data, geom, truth = tuning_cube(seed)
        found, _ = model_find(data, geom, model, config)
        accepted = found[found["accepted"]]
        matches = score_sdc2(accepted, truth).matches
        by_id = {int(t["id"]): t for t in truth}
        keep = [k for k in np.flatnonzero(disc_fitted(accepted)) if int(accepted["id"][k]) in matches]
        rows.append(accepted[keep])
        true += [float(by_id[matches[int(accepted["id"][k])]]["line_flux_integral"].to_value("Jy Hz")) for k in keep]
    return vstack(rows, metadata_conflicts="silent"), np.array(true)


def fit_deboost(sample: QTable, true_flux: np.ndarray):
    """De-boosting ln(F_true / F_fit) = c₀ + c·x (:mod:`..tasks.hi.deboost`) fitted to matched tuning
    detections by least absolute deviations (the card reports median errors, and a few blends would pull
    a least-squares fit), solved exactly as a linear programme; S/N clamped at the lowest the sample
    holds. Fewer than 10 sources per coefficient (a ``--quick`` run): the identity."""
    from scipy import optimize

    from ..tasks.hi.deboost import FEATURES, FluxDeboost, deboost_features

    k = len(FEATURES) + 1
    if len(sample) < 10 * k:
        return FluxDeboost(coef=(0.0,) * k)
    snr_min = round(float(np.min(sample["disc_snr"])), 2)
    x = np.column_stack([np.ones(len(sample)), deboost_features(sample, snr_min)])
    y = np.log(true_flux / sample["line_flux_integral"].to_value("Jy Hz"))
    n = len(y)
    # min Σ(u + v) subject to x·c + u − v = y, u, v ≥ 0, c free
    res = optimize.linprog(np.r_[np.zeros(k), np.ones(2 * n)], A_eq=np.hstack([x, np.eye(n), -np.eye(n)]), b_eq=y,
                           bounds=[(None, None)] * k + [(0, None)] * (2 * n), method="highs")
    return FluxDeboost(coef=tuple(round(float(c), 5) for c in res.x[:k]), snr_min=snr_min)


def fit_decision(features: np.ndarray, good: np.ndarray, l2: float = 1e-2):
    """Logistic regression of 'is a true source' on standardised features, every coefficient ≥ 0: more
    evidence (a higher U-Net logit, more voxels, more S/N) never makes a candidate look more like noise,
    whatever odd corner of the tuning set a free fit would chase (L-BFGS-B, L2 on the coefficients)."""
    from scipy import optimize

    from ..tasks.hi.model import Decision

    mean, scale = features.mean(0), features.std(0) + 1e-9
    z = (features - mean) / scale
    y = np.asarray(good, float)

    def loss(w):
        t = z @ w[:-1] + w[-1]
        p = 1 / (1 + np.exp(-t))
        value = np.sum(np.logaddexp(0, t) - y * t) + 0.5 * l2 * w[:-1] @ w[:-1]
        grad = np.r_[z.T @ (p - y) + l2 * w[:-1], np.sum(p - y)]
        return value, grad

    bounds = [(0, None)] * z.shape[1] + [(None, None)]
    w = optimize.minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    return Decision(tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, w[:-1])), float(w[-1]))

def _characterisation(found, truth, matches: dict[int, int]) -> dict[str, list[float]]:
    """Per matched source errors: relative flux, Δw20 (km/s), relative size, ΔPA (deg, resolved), Δi."""
    errs: dict[str, list[float]] = {k: [] for k in ("flux", "w20", "size", "pa", "i")}
    by_id = {int(r["id"]): r for r in truth}
    for row in found:
        t = by_id.get(matches.get(int(row["id"]), -1))
        if t is None:
            continue
        errs["flux"].append(float(row["line_flux_integral"] / t["line_flux_integral"]) - 1)
        errs["w20"].append(float((row["w20"] - t["w20"]).value))
        errs["size"].append(float(row["hi_size"] / t["hi_size"]) - 1)
        if t["hi_size"].value > 7.0:      # resolved: larger than the beam
            errs["pa"].append(float((row["pa"].value - t["pa"].value + 180) % 360 - 180))
            errs["i"].append(float(row["i"].value - t["i"].value))
    return errs


def _by_snr(found, truth, matches: dict[int, int], ideal: dict[int, float]) -> list[tuple[float, ...]]:
    """(truth S/N, relative flux error, ideal estimator's error, Δw20, relative error of the fit's flux
    before de-boosting) per matched source."""
    by_id = {int(r["id"]): r for r in truth}
    fitted = "line_flux_fitted" if "line_flux_fitted" in found.colnames else "line_flux_integral"
    rows = []
    for row in found:
        tid = matches.get(int(row["id"]), -1)
        if tid in by_id:
            t = by_id[tid]
            rows.append((float(t["snr"]), float(row["line_flux_integral"] / t["line_flux_integral"]) - 1,
                         ideal.get(tid, np.nan), float((row["w20"] - t["w20"]).value),
                         float(row[fitted] / t["line_flux_integral"]) - 1))
    return rows


def characterisation_table(rows, edges=(0, 6, 8, 12, np.inf)) -> list[dict]:
    """Median |errors| of flux (ours, de-boosted and as fitted, and the ideal estimator's), signed flux
    biases and |Δw20| per S/N bin."""
    a = np.array(rows, float).reshape(-1, 5)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        s = (a[:, 0] >= lo) & (a[:, 0] < hi)
        if s.any():
            out.append(dict(snr_min=lo, snr_max=hi, n=int(s.sum()), flux=round(float(np.median(np.abs(a[s, 1]))), 3),
                            flux_bias=round(float(np.median(a[s, 1])), 3),
                            fitted_flux=round(float(np.median(np.abs(a[s, 4]))), 3),
                            fitted_flux_bias=round(float(np.median(a[s, 4])), 3),
                            ideal_flux=round(float(np.nanmedian(np.abs(a[s, 2]))), 3),
                            w20=round(float(np.median(np.abs(a[s, 3]))), 1)))
    return out


def evaluate(model, config, geom_for, seeds=HELD_OUT_SEEDS, progress=print) -> dict:
    """Held-out figures for the card: SDC2 scores (model vs baseline), completeness, purity, errors."""
    from astropy.table import vstack

    from dataclasses import replace

    from ..metrics import completeness_purity

    cfg_find = replace(config, min_score=config.score_threshold)
    out = dict(model_score=0.0, baseline_score=0.0, n_det=0, n_match=0, base_det=0, base_match=0, seconds=[])
    tables, errs, by_snr = [], {k: [] for k in ("flux", "w20", "size", "pa", "i")}, []
    for seed in seeds:
        r = _evaluate_seed(seed, model, geom_for, cfg_find)
        res = r["result"]
        by_snr += _by_snr(r["found"], r["truth"], res.matches, r["ideal"])
        out["model_score"] += res.score
        out["baseline_score"] += r["base_score"].score
        out["n_det"] += res.n_det
        out["n_match"] += res.n_match
        out["base_det"] += r["base_score"].n_det
        out["base_match"] += r["base_score"].n_match
        out["seconds"].append(r["model_s"])
        tables.append(completeness_purity(res, r["truth"]))
        for k, v in _characterisation(r["found"], r["truth"], res.matches).items():
            errs[k] += v
        progress(f"held-out seed {seed}: model {res.score:.2f} ({res.n_match}/{res.n_det}) "
                 f"baseline {r['base_score'].score:.2f} ({r['base_score'].n_match}/{r['base_score'].n_det})")
    pooled = vstack(tables, metadata_conflicts="silent")
    bins = {}
    for row in pooled:
        key = (float(row["snr_min"]), float(row["snr_max"]))
        n, f = bins.get(key, (0, 0))
        bins[key] = (n + int(row["n_true"]), f + int(row["n_found"]))
    out["completeness"] = [dict(snr_min=k[0], snr_max=k[1], n_true=n, n_found=f,
                                completeness=round(f / n, 3) if n else None) for k, (n, f) in bins.items()]
    out["purity"] = out["n_match"] / out["n_det"] if out["n_det"] else None
    out["errors"] = {k: (round(float(np.median(np.abs(v))), 4) if v else None) for k, v in errs.items()}
    out["n_matched_for_errors"] = {k: len(v) for k, v in errs.items()}
    out["by_snr"] = characterisation_table(by_snr)
    ideal = np.array([r[2] for r in by_snr], float)
    out["ideal_flux_error"] = round(float(np.nanmedian(np.abs(ideal))), 4) if ideal.size else None
    fitted = np.array([r[4] for r in by_snr], float)
    out["fitted_flux_error"] = round(float(np.median(np.abs(fitted))), 4) if fitted.size else None
    return out
