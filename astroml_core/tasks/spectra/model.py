"""The spectra task's model: its one name, its card and class list, and the shipped module to run.

Everything else in the spectra task (and the app, the CLI, training and validation) names the model through
``NAME`` and reads its classes from its card here, so a replacement classifier ships as another card + weights
that offer :class:`~astroml_core.models.protocol.SpectraClassifier`.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["NAME", "load", "card", "classes", "provenance"]

NAME = "spectra_net"


def load(device=None):
    """The shipped classifier (a :class:`~astroml_core.models.protocol.SpectraClassifier`), cached per process."""
    from ...registry import load_model

    return load_model(NAME, device)


def card(model_dir: Path | None = None):
    """The classifier's :class:`~astroml_core.models.protocol.ModelCard` (the shipped one by default)."""
    from ...registry import MODEL_DIR, load_card

    return load_card(NAME, model_dir or MODEL_DIR)


def classes(model_dir: Path | None = None) -> tuple[str, ...]:
    """The classifier's classes in output order, from its card's front matter."""
    return card(model_dir).classes


def provenance() -> dict[str, str]:
    """Model name, version and card sha256 that an exported catalogue or a vetting campaign records."""
    from ...registry import model_provenance

    return model_provenance(NAME)
