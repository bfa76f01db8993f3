"""Fit the lightcone posterior's applicability references and summary heads (issue 32).

``python -m astroml_core.train lightcone-applicability [--calibration DIR]`` reads our simulator's width-
calibration sets (seeds 47 and 147, never the held-out 4000s) and the 21cmFAST calibration lightcones
(``DIR/calibration/*.fits``, seeds 8000+, made by :mod:`astroml_core.validate.lightcone_21cmfast_set`), passes
each through the shipped network at every stored line-of-sight length, and writes
``assets/models/lightcone_flow/applicability.npz`` (what :mod:`..tasks.inference.lightcone_applicability` reads),
with the SHA-256 of the weights it was fitted for: rerun it after retraining the network (a test checks they match).
The network's weights are not touched.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..metrics.applicability import whitened_distance, whitening
from ..sim.lightcone import PARAMETER_NAMES, PARAMETERS

__all__ = ["LENGTHS", "QUANTILE", "truncated", "summaries", "fit_reference", "fit_domain_classifier", "fits_moments",
           "own_moments", "run"]

LENGTHS = (96, 160, 224, 288, 384, 448, 512, 592, 672)    # slices of 4 Mpc past z = 6 (z ≈ 7.0 … 21.9 at Ω_m = 0.31)
QUANTILE = 0.98
N_AXES = 12
FOLDS = 5
RIDGE = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
CLASSIFIER_C = 0.1
OWN_SETS = ((47, 600, 32), (147, 300, 48))               # (seed, lightcones, cells across): calibration seeds


def truncated(moments: np.ndarray, n_los: int) -> np.ndarray:
    """Block moments (n, 2, X, Y, L/4) with the blocks beyond ``n_los`` slices set to zero (an absent far end)."""
    out = np.array(moments, dtype=np.float32, copy=True)
    out[..., n_los // 4:] = 0.0
    return out


def summaries(model, moments: np.ndarray, n_los: int, batch: int = 32) -> np.ndarray:
    """(n, 48) network summaries of block moments cut to ``n_los`` slices."""
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(moments), batch):
            part = torch.from_numpy(truncated(moments[start:start + batch], n_los))
            out.append(model.summaries(part)[0].numpy())
    return np.concatenate(out)


def _logit(theta: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Truths → logit of their place in the prior box (the flow's space), through the network's own :func:`to_unit`."""
    import torch

    from ..models.inference_nets import prior_bounds, to_unit

    low, high = prior_bounds([next(p for p in PARAMETERS if p.name == n) for n in names])
    return to_unit(torch.from_numpy(np.asarray(theta, dtype=np.float32)), low, high).double().numpy()


def _ridge(s: np.ndarray, z: np.ndarray, alpha: float, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = s - mean
    w = np.linalg.solve(x.T @ x + alpha * len(x) * np.eye(x.shape[1]), x.T @ (z - z.mean(axis=0)))
    return w, z.mean(axis=0)


def _folds(n: int, seed: int) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(n), FOLDS)


def _out_of_fold(s: np.ndarray, z: np.ndarray, alpha: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold (distances, ridge errors) of every reference lightcone."""
    dist, err = np.empty(len(s)), np.empty_like(z)
    for test in _folds(len(s), seed):
        train = np.setdiff1d(np.arange(len(s)), test)
        mean, whiten = whitening(s[train], N_AXES)
        dist[test] = whitened_distance(s[test], mean, whiten)
        w, b = _ridge(s[train], z[train], alpha, mean)
        err[test] = z[test] - ((s[test] - mean) @ w + b)
    return dist, err


def fit_reference(domain: str, n_los: int, s: np.ndarray, theta: np.ndarray, names: tuple[str, ...],
                  seed: int = 0) -> dict:
    """Arrays of one (domain, length) reference: whitening, out-of-fold threshold, ridge head and its errors."""
    z = _logit(theta, names)
    alpha = min(RIDGE, key=lambda a: float(np.mean(_out_of_fold(s, z, a, seed)[1] ** 2)))
    dist, err = _out_of_fold(s, z, alpha, seed)
    mean, whiten = whitening(s, N_AXES)
    w, b = _ridge(s, z, alpha, mean)
    cov = np.cov(err, rowvar=False).reshape(len(names), len(names))
    sd = np.sqrt(np.diag(cov))
    stretch = np.maximum(1.0, np.quantile(np.abs(err) / sd, 0.95, axis=0) / 1.96)   # heavy tails: 95 % of errors inside
    cov = cov * np.outer(stretch, stretch)
    return dict(mean=mean, whiten=whiten, threshold=np.float64(np.quantile(dist, QUANTILE)), head_w=w, head_b=b,
                head_chol=np.linalg.cholesky(cov + 1e-9 * np.eye(len(names))), head_params=np.array(names), alpha=alpha)


def fit_domain_classifier(s_own: np.ndarray, s_21: np.ndarray, c: float = CLASSIFIER_C) -> dict:
    """Logistic regression (standardised summaries, classes weighted equally): P(21cmFAST | summary)."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([s_own, s_21])
    y = np.r_[np.zeros(len(s_own)), np.ones(len(s_21))]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit((x - mean) / scale, y)
    return dict(mean=mean, scale=scale, coef=clf.coef_[0], intercept=np.float64(clf.intercept_[0]))


def fits_moments(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, list[Path], list[np.ndarray]]:
    """(block moments, truth (n, 6) with NaN where the file has none, the files read, their slice redshifts) of
    lightcone FITS files on the model grid; a file with NaN cells (21cmFAST leaves a few in some runs) is skipped
    with a message."""
    import torch

    from ..errors import NonFiniteError
    from ..models.inference_nets import BlockMoments
    from ..tasks.inference.lightcone import model_input, open_lightcone

    moments, truth, read, redshifts = [], [], [], []
    for path in paths:
        try:
            data = open_lightcone(path)
        except NonFiniteError as exc:
            print(f"skipped: {exc}", flush=True)
            continue
        read.append(path)
        redshifts.append(data.redshift)
        with torch.no_grad():
            moments.append(BlockMoments()(model_input(data)[None])[0].numpy().astype(np.float16))
        truth.append([(data.truth or {}).get(k, np.nan) for k in PARAMETER_NAMES])
    return np.stack(moments), np.array(truth, dtype=float), read, redshifts


def own_moments(cache: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Our simulator's width-calibration sets as (moments, truth), simulated once and cached."""
    from .lightcone_sets import lightcone_set

    return [(s.moments, s.theta) for s in (lightcone_set(n, seed, cache, n_cells=cells) for seed, n, cells in OWN_SETS)]


def run(calibration: Path, cache: Path, output: Path | None = None) -> Path:
    """Fit every (domain, length) reference and write the .npz beside the lightcone weights."""
    import torch

    from ..registry import MODEL_DIR, load_model, sha256
    from ..tasks.inference.lightcone_applicability import APPLICABILITY_FILE

    model = load_model("lightcone_flow", torch.device("cpu"))
    own = own_moments(cache)
    c21_moments, c21_truth, *_ = fits_moments(sorted((calibration / "calibration").glob("*.fits")))
    c21_names = tuple(n for n in PARAMETER_NAMES if n != "m_wdm")
    c21_theta = c21_truth[:, [PARAMETER_NAMES.index(n) for n in c21_names]]
    theta_own = np.concatenate([t for _, t in own])
    arrays = {}
    for n_los in LENGTHS:
        s_own = np.concatenate([summaries(model, m, n_los) for m, _ in own])
        s_21 = summaries(model, c21_moments, n_los)
        for domain, s, theta, names in (("own", s_own, theta_own, PARAMETER_NAMES),
                                        ("21cmfast", s_21, c21_theta, c21_names)):
            ref = fit_reference(domain, n_los, s, theta, names)
            print(f"{domain} L{n_los}: threshold {ref['threshold']:.2f}, ridge α {ref['alpha']}", flush=True)
            arrays.update({f"{domain}_L{n_los}__{k}": v for k, v in ref.items() if k != "alpha"})
        arrays.update({f"classifier_L{n_los}__{k}": v for k, v in fit_domain_classifier(s_own, s_21).items()})
    path = output or MODEL_DIR / "lightcone_flow" / APPLICABILITY_FILE
    arrays["weights_sha256"] = np.array(sha256(MODEL_DIR / "lightcone_flow" / "weights.pt"))
    np.savez_compressed(path, **arrays)
    return path
