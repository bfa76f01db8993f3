"""Consensus from votes: the plain majority, and Dawid & Skene's (1979) reliability-weighted estimate.

Dawid–Skene learns one confusion matrix per voter by expectation–maximisation, so a careless or
contrarian voter counts for less than a careful one. crowd-kit implements it too, but pulls in
transformers and nltk; the algorithm is forty lines of numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Consensus", "majority", "dawid_skene"]


@dataclass(frozen=True)
class Consensus:
    """Per item: label index (-1: no votes) and its probability or vote fraction."""

    label: np.ndarray
    probability: np.ndarray


def _counts(items: np.ndarray, labels: np.ndarray, n_items: int, n_labels: int) -> np.ndarray:
    counts = np.zeros((n_items, n_labels))
    np.add.at(counts, (items, labels), 1.0)
    return counts


def majority(items: np.ndarray, labels: np.ndarray, n_items: int, n_labels: int) -> Consensus:
    """The most voted label of each item and its vote fraction (ties: the label listed first)."""
    counts = _counts(items, labels, n_items, n_labels)
    total = counts.sum(1)
    best = counts.argmax(1)
    frac = np.divide(counts[np.arange(n_items), best], total, out=np.zeros(n_items), where=total > 0)
    return Consensus(np.where(total > 0, best, -1), frac)


def dawid_skene(items: np.ndarray, voters: np.ndarray, labels: np.ndarray, n_items: int, n_labels: int, *,
                iterations: int = 100, smoothing: float = 0.01, tol: float = 1e-6) -> Consensus:
    """Dawid–Skene EM started from the majority; returns each item's most probable label and probability.

    items, voters, labels : integer arrays, one entry per vote.
    smoothing : pseudo-count added to every confusion-matrix cell (keeps rare labels possible).
    """
    items, voters, labels = (np.asarray(a, dtype=int) for a in (items, voters, labels))
    counts = _counts(items, labels, n_items, n_labels)
    voted = counts.sum(1) > 0
    post = np.where(voted[:, None], counts / np.maximum(counts.sum(1, keepdims=True), 1), 1.0 / n_labels)
    n_voters = int(voters.max()) + 1 if len(voters) else 0
    for _ in range(iterations):
        prior = post[voted].mean(0) + smoothing if voted.any() else np.full(n_labels, 1.0 / n_labels)
        prior /= prior.sum()
        confusion = np.full((n_voters, n_labels, n_labels), smoothing)
        np.add.at(confusion, (voters, slice(None), labels), post[items])
        confusion /= confusion.sum(2, keepdims=True)
        log_post = np.tile(np.log(prior), (n_items, 1))
        np.add.at(log_post, items, np.log(confusion[voters, :, labels]))
        log_post -= log_post.max(1, keepdims=True)
        new = np.exp(log_post)
        new /= new.sum(1, keepdims=True)
        new[~voted] = 1.0 / n_labels
        change = np.abs(new - post).max()
        post = new
        if change < tol:
            break
    best = post.argmax(1)
    return Consensus(np.where(voted, best, -1), post[np.arange(n_items), best])
