"""HI source finding with the shipped 3-D U-Net: probability cube → linked sources → SDC2 measurements.

A multi-step decision keeps false positives down at low S/N: (1) a voxel must have source
probability above ``voxel_threshold`` to join a candidate; (2) each candidate gets a reliability
score from a logistic model over its mask (mean of its ten most probable voxels, log voxel count,
integrated and peak S/N), fitted on validation cubes and stored in the model card; (3) candidates
are accepted at ``score_threshold``. The catalogue keeps every candidate above ``min_score`` with its
score, so the app can move the threshold without running the model again. Line fluxes (and hi_size)
are then de-boosted with the card's ``flux_deboost`` (:mod:`.deboost`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from astropy.table import QTable

from .deboost import FluxDeboost
from .disc_fit import fit_sources
from .linker import link
from .measure import CubeGeometry, measure_sources
from .noise import normalise

__all__ = ["ModelConfig", "Decision", "FluxDeboost", "config_from_card", "probability", "model_find", "candidate_scores", "candidate_features"]

FEATURES = ("unet_score", "log_n_vox", "snr", "peak_snr")


@dataclass(frozen=True)
class Decision:
    """Logistic reliability over standardised candidate features (see FEATURES)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def __call__(self, features: np.ndarray) -> np.ndarray:
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))


def candidate_features(table: QTable) -> np.ndarray:
    """(n, 4) features of measured candidates: U-Net score, log10 voxel count, integrated and peak S/N."""
    return np.column_stack([np.asarray(table["unet_score"], float), np.log10(np.maximum(table["n_vox"], 1)),
                            np.nan_to_num(np.asarray(table["snr"], float)),
                            np.nan_to_num(np.asarray(table["peak_snr"], float))])


@dataclass(frozen=True)
class ModelConfig:
    """Extraction settings for the model's probability cube."""

    voxel_threshold: float = 0.5
    score_threshold: float = 0.5    # the default decision; the catalogue keeps ≥ min_score
    min_score: float = 0.3
    merge_chan: int = 4
    merge_px: int = 2
    min_chan: int = 3
    min_px: int = 4
    tile: tuple[int, int, int] = (128, 256, 256)   # channels, y, x per forward pass (multiples of 8)
    overlap: tuple[int, int, int] = (32, 32, 32)
    decision: Decision | None = None               # None: score = U-Net score alone
    deboost: FluxDeboost | None = None             # None: the disc fit's flux as it is


def config_from_card(front: dict, threshold: float | None = None) -> ModelConfig:
    """The extraction settings a model card prescribes (its decision stage, threshold and flux de-boosting)."""
    d = front.get("decision")
    decision = Decision(tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), float(d["intercept"])) if d else None
    b = front.get("flux_deboost")
    deboost = FluxDeboost(tuple(float(c) for c in b["coef"]), float(b["snr_min"])) if b else None
    cut = float(front.get("score_threshold", 0.5)) if threshold is None else float(threshold)
    return ModelConfig(score_threshold=cut, min_score=min(cut, 0.05), decision=decision, deboost=deboost)


def _starts(n: int, size: int, overlap: int) -> list[int]:
    if n <= size:
        return [0]
    step = size - overlap
    starts = list(range(0, n - size, step)) + [n - size]
    return sorted(set(starts))


def probability(model, norm: np.ndarray, *, device=None, tile=(128, 256, 256), overlap=(32, 32, 32),
                progress: Callable[[float], None] = lambda f: None) -> np.ndarray:
    """Source probability per voxel of a noise-normalised cube, by overlapping tiles (float32).

    Each tile's border (half the overlap) is discarded except at the cube's edges, so the stitched
    cube equals a whole-cube pass up to the network's receptive field.
    """
    import torch

    device = device or next(model.parameters()).device
    shape = norm.shape
    size = [min(t, n + (-n % 8)) for t, n in zip(tile, shape)]
    padded = np.pad(norm, [(0, max(0, s - n) + (-max(n, s) % 8)) for s, n in zip(size, shape)])
    out = np.zeros(shape, np.float32)
    starts = [_starts(padded.shape[a], size[a], overlap[a]) for a in range(3)]
    boxes = [(c, y, x) for c in starts[0] for y in starts[1] for x in starts[2]]
    with torch.inference_mode():
        for n, origin in enumerate(boxes):
            sl = tuple(slice(o, o + s) for o, s in zip(origin, size))
            x = torch.from_numpy(np.ascontiguousarray(padded[sl]))[None, None].to(device)
            p = torch.sigmoid(model(x))[0, 0].float().cpu().numpy()
            keep_src, keep_dst = [], []
            for a, (o, s) in enumerate(zip(origin, size)):
                lo = 0 if o == 0 else overlap[a] // 2
                hi = s if o + s >= padded.shape[a] else s - overlap[a] // 2
                hi = min(hi, shape[a] - o)
                keep_src.append(slice(lo, max(lo, hi)))
                keep_dst.append(slice(o + lo, o + max(lo, hi)))
            out[tuple(keep_dst)] = p[tuple(keep_src)]
            progress((n + 1) / len(boxes))
    return out


def candidate_scores(prob: np.ndarray, labels: np.ndarray, n: int, top: int = 10) -> np.ndarray:
    """Score of each labelled candidate: the mean of its ``top`` most probable voxels."""
    flat = np.flatnonzero(labels)
    lab, p = labels.ravel()[flat], prob.ravel()[flat]
    order = np.lexsort((-p, lab))
    lab, p = lab[order], p[order]
    first = np.searchsorted(lab, np.arange(1, n + 1))
    scores = np.zeros(n)
    for k, start in enumerate(first):
        stop = first[k + 1] if k + 1 < n else lab.size
        scores[k] = p[start:min(stop, start + top)].mean() if stop > start else 0.0
    return scores


def model_find(data: np.ndarray, geom: CubeGeometry, model, config: ModelConfig | None = None, *,
               origin: tuple[int, int, int] = (0, 0, 0),
               progress: Callable[[float], None] = lambda f: None) -> tuple[QTable, np.ndarray]:
    """Find and measure HI sources with the model: (catalogue with ``score``, label cube).

    The catalogue holds candidates with score ≥ ``min_score``; ``accepted`` marks the default
    decision (score ≥ ``score_threshold``). ``origin`` places a tile in its cube: (channel, y, x)
    of ``data[0, 0, 0]`` (``geom`` describes the whole cube).
    """
    from .linker import relabel

    cfg = config or ModelConfig()
    norm, sigma = normalise(np.asarray(data, dtype=np.float32))
    prob = probability(model, norm, tile=cfg.tile, overlap=cfg.overlap, progress=lambda f: progress(0.8 * f))
    labels, n = link(prob > cfg.voxel_threshold, cfg.merge_chan, cfg.merge_px, cfg.min_chan, cfg.min_px)
    scores = candidate_scores(prob, labels, n)
    if not (np.isfinite(geom.noise) and geom.noise > 0):
        geom = replace(geom, noise=float(np.median(sigma)))   # keeps per-channel beams
    table = measure_sources(np.asarray(data, dtype=np.float32), labels, geom, origin=origin)
    table["unet_score"] = scores
    table["score"] = cfg.decision(candidate_features(table)) if cfg.decision is not None and n else scores
    keep = np.flatnonzero(np.asarray(table["score"]) >= cfg.min_score)
    table = table[keep]
    labels, _ = relabel(labels, list(keep + 1))
    table["id"] = np.arange(len(table), dtype=np.int64)
    table["accepted"] = table["score"] >= cfg.score_threshold
    table = fit_sources(table, np.asarray(data, dtype=np.float32), labels, geom, origin=origin)
    if cfg.deboost is not None:
        table = cfg.deboost.apply(table, geom.rest_hz)
    progress(1.0)
    return table, labels
