"""Classifier metrics: confusion matrix, macro accuracy, expected calibration error, anomaly AUROC."""
from __future__ import annotations

import numpy as np

__all__ = ["confusion_matrix", "macro_accuracy", "expected_calibration_error", "calibration_error", "auroc"]


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (true class row, predicted class column)."""
    return np.bincount(true * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def macro_accuracy(cm: np.ndarray) -> float:
    """Mean over classes of the fraction of each class predicted correctly (classes with no spectra skipped)."""
    rows = cm.sum(axis=1)
    ok = rows > 0
    return float(np.mean(np.diag(cm)[ok] / rows[ok]))


def expected_calibration_error(probs: np.ndarray, true: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE (Guo+17): Σ_bins (n_b / N) |accuracy_b − confidence_b| over equal-width confidence bins."""
    return calibration_error(probs.max(axis=1), probs.argmax(axis=1) == true, n_bins)


def calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """ECE from each answer's confidence and whether it was right (NaN for no answers)."""
    if conf.size == 0:
        return float("nan")
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def auroc(score_negative: np.ndarray, score_positive: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counted half."""
    s = np.concatenate([score_negative, score_positive])
    ranks = np.empty(len(s))
    order = np.argsort(s, kind="mergesort")
    ranks[order] = np.arange(1, len(s) + 1)
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)   # average ranks of ties
    sums = np.bincount(inv, ranks)
    ranks = (sums / counts)[inv]
    n_pos, n_neg = len(score_positive), len(score_negative)
    return float((ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
