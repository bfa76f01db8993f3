"""What every ``train/<name>_card.py`` does first: where the weights go, and fit them or keep the shipped ones."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from ..registry import MODEL_DIR, read_card

__all__ = ["model_folder", "trained_or_kept"]


def model_folder(name: str, quick: bool) -> Path:
    """``assets/models/<name>``, or a throw-away folder for a ``--quick`` run."""
    folder = (Path(tempfile.mkdtemp()) if quick else MODEL_DIR) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def trained_or_kept(folder: Path, build: Callable[[], object], fit: Callable[[], object], keep_weights: bool):
    """(model in eval mode, training seconds): ``fit()`` and save its weights, or load the shipped ones
    into ``build()`` and take the training time from the card they came with."""
    import torch

    if keep_weights:
        model = build()
        model.load_state_dict(torch.load(folder / "weights.pt", map_location="cpu", weights_only=True))
        model.eval()
        return model, read_card(folder.name, folder.parent)[0].get("train_seconds", 0)
    started = time.time()
    model = fit()
    torch.save(model.state_dict(), folder / "weights.pt")
    return model, time.time() - started
