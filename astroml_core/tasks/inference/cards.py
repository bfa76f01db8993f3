"""What the inference models' cards say of their held-out checks, for the page and the CLI to show (the
registry stays behind the task)."""
from __future__ import annotations

import numpy as np

from ...registry import MODEL_DIR, read_card

__all__ = ["LIGHTCONE_MODEL", "GALAXY_MODEL", "card_front", "held_out_arrays"]

LIGHTCONE_MODEL = "lightcone_flow"
GALAXY_MODEL = "galaxy_flow"


def card_front(model: str) -> dict:
    """The front matter of an inference model's card (held-out metrics, E₀ split, training set)."""
    return read_card(model)[0]


def held_out_arrays(model: str) -> dict[str, np.ndarray]:
    """The held-out predictions shipped beside the weights (``heldout.npz``: truths, means, TARP curve)."""
    with np.load(MODEL_DIR / model / "heldout.npz") as data:
        return {k: data[k] for k in data.files}
