"""What every shipped model offers the task that runs it: ``card``, ``classes`` and ``predict``.

A task talks to its model only through these, so another network that offers them (same inputs, same
outputs, its own card) can be shipped in its place. ``card`` is attached by ``registry.load_model``; the
class list is read from the card's front matter (``classes: [...]``), never from a simulator. No torch at
import time: the registry imports this module and must stay light.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

__all__ = ["ModelCard", "Carded", "Model", "SpectraPrediction", "SpectraClassifier"]


@dataclass(frozen=True)
class ModelCard:
    """A shipped model's card as loaded: its name, front matter and the card file's sha256 (recorded with
    every result, so a catalogue names the exact card behind it)."""

    name: str
    front: dict = field(repr=False)
    sha256: str

    @property
    def weights_sha256(self) -> str:
        """The sha256 of the weights file the card describes."""
        return str(self.front.get("weights_sha256", ""))

    @property
    def classes(self) -> tuple[str, ...]:
        """The model's classes in output order (empty for a task without classes)."""
        return tuple(self.front.get("classes") or ())


class Carded:
    """Mixin for a model module: ``card`` (None until the registry loads weights into it) and ``classes``."""

    card: ModelCard | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The card's class list; empty without a card or for a task without classes."""
        return self.card.classes if self.card is not None else ()


@runtime_checkable
class Model(Protocol):
    """Every shipped model: ``predict`` is the deterministic forward pass its task reads (a tuple of tensors;
    for a model with classes the first output ends in one entry per class, in ``classes`` order)."""

    card: ModelCard | None

    @property
    def classes(self) -> tuple[str, ...]: ...

    def predict(self, *inputs: Any) -> tuple: ...


class SpectraPrediction(NamedTuple):
    """The spectra classifier's outputs for N spectra (torch tensors)."""

    member_probs: Any     # (K, N, C) each member's temperature-scaled class probabilities
    features: Any         # (N, F) the learned representation (for maps)
    anomaly: Any          # (N,) robust z-score of feature-space novelty, larger = stranger
    latent: Any           # (N, latent) the VAE's posterior mean
    reconstruction: Any   # (N, bins) the VAE's reconstruction of the binned normalised flux


@runtime_checkable
class SpectraClassifier(Model, Protocol):
    """The spectra task's model: ``predict(x, xb)`` from normalised spectra (N, L, 2) and their 4-pixel bins
    (N, L/4, 2); ``probabilities(x)``, the members' mean class probabilities, differentiable (for saliency)."""

    def predict(self, x: Any, xb: Any) -> SpectraPrediction: ...

    def probabilities(self, x: Any) -> Any: ...
