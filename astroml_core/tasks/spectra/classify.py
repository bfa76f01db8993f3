"""Classify spectra with the shipped ensemble: probabilities, uncertainty, anomaly score, features.

Per spectrum:
- ``probs``: the members' temperature-scaled softmax, averaged (a deep ensemble, Lakshminarayanan+17);
- ``uncertainty``: 1 − max probability (what a user reads as "how unsure"); ``disagreement``: the
  mutual information between members' predictions (the epistemic part, high off the training set);
- ``anomaly``: feature-space novelty, a robust z-score on normal spectra of the members' mean log
  Mahalanobis distance to the nearest class (above ~3 is unusual); ``recon_chi2``: the VAE's χ² per
  bin, a second opinion;
- ``features`` (the learned representation, for embeddings) and ``latent`` (the VAE's posterior mean);
- ``label`` and ``reason`` (issue 31): the predicted class, or ``UNKNOWN`` with the reason when the spectrum
  cannot be read (no pixel with ivar > 0, or fewer than ``MIN_COVERAGE`` = 30% of the grid's pixels) or is
  unlike every training class (anomaly z above its predicted class's threshold in the model card's
  ``unknown.anomaly_z_by_class``, calibrated so that ~3% of each class's normal simulated spectra are flagged). The 13 probabilities are kept either way.

The model is reached only through :class:`~astroml_core.models.protocol.SpectraClassifier` (``predict``,
``classes``, ``card``); the class list and the UNKNOWN thresholds come from its card.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...data.spectra import SpectrumSet
from ...data.spectrum_resample import MIN_COVERAGE
from ...sim.spectra import LOGLAM0, DLOGLAM, N_PIXELS
from . import model as spectra_model
from .preprocess import bin4, normalise

__all__ = ["Classification", "classify", "classify_arrays", "unknown_threshold", "unknown_labels", "per_class_thresholds", "BATCH", "UNKNOWN",
           "DEFAULT_UNKNOWN_Z"]

BATCH = 128          # measured fastest on 2 CPU cores (the activations stay in cache)
UNKNOWN = "UNKNOWN"
DEFAULT_UNKNOWN_Z = 3.0     # for a card without a calibrated threshold: "above ~3 is unusual"
_GRID_TEXT = f"{10 ** LOGLAM0:,.0f}–{10 ** (LOGLAM0 + DLOGLAM * (N_PIXELS - 1)):,.0f} Å"


@dataclass
class Classification:
    """Per-spectrum outputs of ``classify`` (arrays of length N)."""

    classes: tuple[str, ...]
    probs: np.ndarray          # (N, C) float32
    uncertainty: np.ndarray    # (N,) 1 − max p
    disagreement: np.ndarray   # (N,) mutual information between members, nats
    anomaly: np.ndarray        # (N,) robust z-score, larger = stranger
    recon_chi2: np.ndarray     # (N,) VAE reconstruction χ² per bin
    features: np.ndarray       # (N, F) float32
    latent: np.ndarray         # (N, latent) float32
    coverage: np.ndarray | None = None    # (N,) share of the grid's pixels with ivar > 0
    label: np.ndarray | None = None       # (N,) str: the predicted class, or UNKNOWN
    reason: np.ndarray | None = None      # (N,) str: why UNKNOWN ("" when classified)
    unknown_z: np.ndarray | float = DEFAULT_UNKNOWN_Z  # the anomaly thresholds used, one per class

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def pred_class(self) -> np.ndarray:
        return np.asarray(self.classes)[self.pred]


def _batch_outputs(model, flux: np.ndarray, ivar: np.ndarray, device) -> dict[str, np.ndarray]:
    import torch

    x = torch.from_numpy(normalise(flux, ivar)).to(device)
    xb, ivar_b = bin4(flux, ivar)
    xb_t = torch.from_numpy(xb).to(device)
    out = model.predict(x, xb_t)
    p = out.member_probs                                                # (K, N, C)
    mean = p.mean(dim=0)
    entropy = lambda q: -(q * torch.log(q.clamp_min(1e-12))).sum(-1)   # noqa: E731
    mi = entropy(mean) - entropy(p).mean(dim=0)
    w = torch.from_numpy(ivar_b).to(device)
    chi2 = ((out.reconstruction - xb_t[..., 0]) ** 2 * w).sum(1) / w.gt(0).sum(1).clamp_min(1)
    coverage = torch.from_numpy((ivar > 0).mean(axis=1).astype(np.float32))
    return dict(probs=mean, disagreement=mi, anomaly=out.anomaly, recon_chi2=chi2, features=out.features,
                latent=out.latent, coverage=coverage)


def _thresholds(front: dict, classes) -> np.ndarray:
    """Per-class anomaly thresholds (C,) from a card's front matter (see ``unknown_threshold``)."""
    unknown = front.get("unknown") or {}
    one = float(unknown.get("anomaly_z", DEFAULT_UNKNOWN_Z))
    by_class = unknown.get("anomaly_z_by_class") or {}
    return np.array([float(by_class.get(c, one)) for c in classes])


def unknown_threshold(model_dir=None) -> np.ndarray:
    """The anomaly z above which the classifier answers UNKNOWN, one per predicted class (C,): its card's
    ``unknown.anomaly_z_by_class``, else its one ``unknown.anomaly_z``, else DEFAULT_UNKNOWN_Z (a card that
    predates the calibration). Per class, because how far a class's spectra spread in feature space differs:
    one cut flagged a third of the starbursts and almost no stars."""
    card = spectra_model.card(model_dir)
    return _thresholds(card.front, card.classes or spectra_model.classes())


def _classes(classes) -> tuple[str, ...]:
    """``classes``, or the shipped classifier's (from its card) when None."""
    return tuple(classes) if classes is not None else spectra_model.classes()


def per_class_thresholds(unknown_z, classes=None) -> np.ndarray:
    """A threshold for each of the classes (C,), from one number or from C numbers (``classes``: default the
    shipped classifier's)."""
    return np.broadcast_to(np.asarray(unknown_z, dtype=float), (len(_classes(classes)),)).copy()


def unknown_labels(pred_class: np.ndarray, coverage: np.ndarray, anomaly: np.ndarray,
                   unknown_z, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """(label, reason) per spectrum: the class, or UNKNOWN with why — no usable pixel, too little of the grid
    covered (< MIN_COVERAGE), or unlike the training spectra (anomaly z above its predicted class's threshold,
    ``unknown_z``: one number or one per class of ``classes``, default the shipped classifier's), in that order."""
    n = len(pred_class)
    classes = _classes(classes)
    label = np.asarray(pred_class).astype(f"<U{max(len(UNKNOWN), max((len(c) for c in classes)))}")
    index = {c: k for k, c in enumerate(classes)}
    cut = (per_class_thresholds(unknown_z, classes)[[index[c] for c in np.asarray(pred_class).astype(str)]] if n
           else np.zeros(0))
    reason = np.full(n, "", dtype=object)
    for i in np.flatnonzero(anomaly > cut):
        reason[i] = f"unlike the training spectra (anomaly z = {anomaly[i]:.2f} > {cut[i]:.2f})"
    for i in np.flatnonzero(coverage < MIN_COVERAGE):
        reason[i] = (f"covers only {coverage[i]:.0%} of {_GRID_TEXT} (needs {MIN_COVERAGE:.0%})" if coverage[i] > 0
                     else "no usable pixel (ivar 0 throughout)")
    flagged = reason != ""
    label[flagged] = UNKNOWN
    return label, reason.astype(str)


def classify_arrays(flux: np.ndarray, ivar: np.ndarray, model=None, *, batch: int = BATCH,
                    progress: Callable[[float, str], None] | None = None,
                    unknown_z=None) -> Classification:
    """Classify (N, L) flux / ivar arrays (no-data pixels zeroed) on the simulator's grid; ``unknown_z``: the
    anomaly threshold for UNKNOWN (default: the shipped card's, see ``unknown_threshold``)."""
    return _run(lambda sl: (flux[sl], ivar[sl]), len(flux), model, batch, progress, unknown_z)


def classify(spectra: SpectrumSet, model=None, *, batch: int = BATCH,
             progress: Callable[[float, str], None] | None = None,
             unknown_z=None) -> Classification:
    """Classify a spectrum set (read in batches, so a memory-mapped file is never loaded whole)."""
    if spectra.flux.shape[1] != N_PIXELS:
        from ...errors import ShapeError

        raise ShapeError(f"spectra have {spectra.flux.shape[1]} pixels; the classifier needs the {N_PIXELS}-pixel "
                         "grid of 3,800–9,200 Å in 1e-4 log-λ steps (SDSS files are placed on it by open_spectra)")
    return _run(spectra.rows, len(spectra), model, batch, progress, unknown_z)


def _run(rows, n: int, model, batch: int, progress, unknown_z=None) -> Classification:
    import torch

    model = model if model is not None else spectra_model.load()
    card = model.card if model.card is not None else spectra_model.card()     # a module built without the registry
    classes = card.classes or spectra_model.classes()
    device = next(model.parameters()).device
    parts: dict[str, list[np.ndarray]] = {}
    with torch.inference_mode():
        for start in range(0, n, batch):
            flux, ivar = rows(slice(start, min(start + batch, n)))
            for key, value in _batch_outputs(model, flux, ivar, device).items():
                parts.setdefault(key, []).append(value.float().cpu().numpy())
            if progress is not None:
                progress(min(start + batch, n) / n, f"classified {min(start + batch, n):,} of {n:,} spectra")
    out = {k: np.concatenate(v) for k, v in parts.items()}
    probs = out["probs"]
    unknown_z = _thresholds(card.front, classes) if unknown_z is None else per_class_thresholds(unknown_z, classes)
    label, reason = unknown_labels(np.asarray(classes)[probs.argmax(axis=1)], out["coverage"], out["anomaly"],
                                   unknown_z, classes)
    return Classification(classes, probs, 1.0 - probs.max(axis=1), out["disagreement"], out["anomaly"],
                          out["recon_chi2"], out["features"], out["latent"], out["coverage"], label, reason, unknown_z)
