"""Train the deblender (detector + splitter U-Nets) on simulated blends and score it against sep and
photutils on held-out fields.

``python -m astroml_core.train deblend`` rebuilds ``assets/models/deblend_unet/``. Seeds: training
fields 50000+, held-out fields 2000+ (never seen in training; the tests use them too).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..sim.blends import BlendConfig, simulate_blends
from ..tasks.deblend.model import cut_stamp, markers, scale, splitter_input

__all__ = ["TrainConfig", "fit", "evaluate", "mape_table", "TRAIN_SEED0", "HELD_OUT_SEEDS", "galaxy_snr"]

TRAIN_SEED0 = 50000
HELD_OUT_SEEDS = tuple(range(2000, 2150))


@dataclass(frozen=True)
class TrainConfig:
    """Training set and schedule (defaults: ~15 min on 2 CPU cores)."""

    n_fields: int = 4000
    steps_detector: int = 1200
    steps_splitter: int = 8000
    batch: int = 16
    lr: float = 2e-3
    width: int = 16
    min_snr: float = 5.0          # galaxies the detector must find (detection-image S/N of the noiseless galaxy)
    seed: int = 0


def galaxy_snr(isolated_sigma: np.ndarray) -> np.ndarray:
    """Matched-filter S/N of each noiseless galaxy in the detection image (Σ_b I_b/σ_b, noise √n_bands)."""
    det = isolated_sigma.sum(axis=1)
    return np.sqrt((det.astype(np.float64) ** 2).sum(axis=(1, 2))) / np.sqrt(isolated_sigma.shape[1])


def _field(seed: int, cfg: BlendConfig, min_snr: float) -> dict:
    """One training field: scaled bands, isolated galaxies (σ units), centres, S/N and the detector's target."""
    sim = simulate_blends(seed, cfg)
    sigma = np.asarray(cfg.sky_sigma, np.float32)[None, :, None, None]
    iso = sim.isolated / sigma
    centres = np.column_stack([sim.truth["x"], sim.truth["y"]]).astype(np.float32)
    snr = galaxy_snr(iso)
    return dict(scaled=scale(sim.images / sigma[0]), iso=iso.astype(np.float16), centres=centres, snr=snr,
                heat=markers((cfg.ny, cfg.nx), centres[snr >= min_snr]))


def _augment(rng, *arrays):
    """The same random flip / transpose of the last two axes of every array."""
    k = rng.integers(8)
    out = []
    for a in arrays:
        if k & 1:
            a = a[..., ::-1]
        if k & 2:
            a = a[..., ::-1, :]
        if k & 4:
            a = np.swapaxes(a, -1, -2)
        out.append(np.ascontiguousarray(a))
    return out


def _detector_batch(fields, cfg: TrainConfig, rng):
    xs, ys = [], []
    for _ in range(cfg.batch):
        f = fields[rng.integers(len(fields))]
        x, y = _augment(rng, f["scaled"], f["heat"])
        xs.append(x)
        ys.append(y[None])
    return np.stack(xs), np.stack(ys)


def _splitter_batch(fields, cfg: TrainConfig, rng):
    xs, ys = [], []
    while len(xs) < cfg.batch:
        f = fields[rng.integers(len(fields))]
        found = np.flatnonzero(f["snr"] >= cfg.min_snr)
        if found.size == 0:
            continue
        k = int(found[rng.integers(found.size)])
        keep = [j for j in found if j == k or rng.random() > 0.15]      # the detector misses some neighbours
        centres = f["centres"][keep] + rng.normal(0, 0.3, (len(keep), 2)).astype(np.float32)
        x_in, _ = splitter_input(f["scaled"], centres, keep.index(k))
        target, _ = cut_stamp(f["iso"][k].astype(np.float32), *centres[keep.index(k)])   # the input's stamp
        x, y = _augment(rng, x_in, target)
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def fit(cfg: TrainConfig, progress: Callable[[str], None] = print):
    """Simulate the training fields and fit the detector, then the splitter; returns the Deblender (CPU, eval)."""
    import torch
    from torch.nn import functional as F

    from ..models.deblend_unet import Deblender
    from ..service.device import choose_device

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.time()
    fields = [_field(TRAIN_SEED0 + i, BlendConfig(), cfg.min_snr) for i in range(cfg.n_fields)]
    progress(f"simulated {cfg.n_fields} training fields in {time.time() - t0:.0f} s")
    device = choose_device()
    model = Deblender(width=cfg.width).to(device)
    model.train()

    def run(params, steps, batch_fn, loss_fn, name):
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
        running = None
        for step in range(1, steps + 1):
            x, y = (torch.from_numpy(a).to(device) for a in batch_fn(fields, cfg, rng))
            loss = loss_fn(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            if step % 250 == 0:
                progress(f"{name} step {step}/{steps} loss {running:.4f} ({time.time() - t0:.0f} s)")

    def detector_loss(x, y):
        return F.binary_cross_entropy_with_logits(model(x), y, pos_weight=torch.tensor(5.0, device=device))

    def splitter_loss(x, y):
        pred = model.split(x)
        pixel = ((torch.asinh(pred / 3) - torch.asinh(y / 3)) ** 2).mean() * 100   # linear in the noise, log above
        total = ((pred.sum((2, 3)) - y.sum((2, 3))).abs() / (y.sum((2, 3)) + 10)).mean()
        return pixel + total

    run(model.detector.parameters(), cfg.steps_detector, _detector_batch, detector_loss, "detector")
    run(model.splitter.parameters(), cfg.steps_splitter, _splitter_batch, splitter_loss, "splitter")
    return model.cpu().eval()


def evaluate(model, seeds=HELD_OUT_SEEDS, min_snr: float = 10.0, progress: Callable[[str], None] = print) -> dict:
    """Held-out scores of the model, sep and photutils: DeblendScore per method (galaxies with S/N ≥ min_snr)."""
    from ..metrics.deblend import DeblendScore, score_deblend, truth_segmentation
    from ..tasks.deblend.classic import THRESH, photutils_deblend, sep_deblend
    from ..tasks.deblend.model import model_deblend

    cfg = BlendConfig()
    sigma = np.asarray(cfg.sky_sigma, np.float32)
    scores: dict[str, list] = {"model": [], "sep": [], "photutils": []}
    seconds, snrs = [], []
    for seed in seeds:
        sim = simulate_blends(seed, cfg)
        iso = sim.isolated / sigma[None, :, None, None]
        truth_seg = truth_segmentation(iso.sum(axis=1), THRESH * np.sqrt(len(sigma)))
        snr = galaxy_snr(iso)
        select = snr >= min_snr
        snrs.append(snr[select])
        t = time.time()
        res = model_deblend(sim.images, cfg.bands, model, wcs=sim.wcs, sigma=sigma)
        seconds.append(time.time() - t)
        scores["model"].append(score_deblend(sim.truth, res.catalogue, res.segmap, truth_seg, cfg.bands, select))
        for name, finder in (("sep", sep_deblend), ("photutils", photutils_deblend)):
            cat, seg = finder(sim.images, cfg.bands, sim.wcs, sigma)
            scores[name].append(score_deblend(sim.truth, cat, seg, truth_seg, cfg.bands, select))
    progress(f"scored {len(seeds)} held-out fields")
    return dict(scores={k: DeblendScore.concatenate(v) for k, v in scores.items()}, snr=np.concatenate(snrs),
                seconds_per_field=float(np.mean(seconds)))


def mape_table(scores: dict, snr: np.ndarray, blended_above: float = 0.1,
               edges=(10, 20, 50, np.inf)) -> list[dict]:
    """MAPE of blended galaxies per S/N bin for each method, and for model and sep on the galaxies both
    found ("the same blends"); all bands pooled."""
    def mape(score, sel):
        e = np.concatenate([err[sel] for err in score.rel_err.values()])
        e = e[np.isfinite(e)]
        return round(float(np.mean(np.abs(e))), 4) if e.size else None

    blended = scores["model"].blendedness > blended_above
    both = scores["model"].found & scores["sep"].found
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = blended & (snr >= lo) & (snr < hi)
        row = dict(snr_min=lo, snr_max=hi, n=int(sel.sum()), n_both=int((sel & both).sum()))
        row.update({f"mape_{m}": mape(s, sel) for m, s in scores.items()})
        row.update(mape_model_same=mape(scores["model"], sel & both), mape_sep_same=mape(scores["sep"], sel & both))
        rows.append(row)
    return rows
