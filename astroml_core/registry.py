"""Shipped models: weights + model cards in ``assets/models/<name>/``, loaded once per process.

A card is Markdown with a YAML front matter (task, inputs, training data, exact command, seed,
held-out metrics, weights sha256). ``load_model`` checks the weights against the card's sha256, so a
card never describes other weights than those it ships with, and attaches the card to the module
(``module.card``, see :mod:`.models.protocol`). Each spec declares its model's contract: the input shapes of a
small example and the output shapes ``predict`` gives for it (``tests/core/test_model_contract.py`` runs it
over every shipped model).
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from .errors import AstroMLError, UnknownModelError
from .models.protocol import ModelCard

__all__ = ["ModelSpec", "MODELS", "MODEL_DIR", "load_model", "load_card", "read_card", "write_card", "sha256", "model_provenance"]

MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"


@dataclass(frozen=True)
class ModelSpec:
    """How to build a shipped model's module before its weights are loaded, and its contract: ``predict``
    on inputs of shapes ``inputs`` gives outputs of shapes ``outputs`` (small, for a fast test)."""

    name: str
    task: str
    factory: Callable[[], object]
    inputs: tuple[tuple[int, ...], ...] = ()
    outputs: tuple[tuple[int, ...], ...] = ()


def _hi_unet():
    from .models.hi_unet import HIUNet

    return HIUNet()


def _deblend_unet():
    from .models.deblend_unet import Deblender

    return Deblender()


def _spectra_net():
    from .models.spectra_nets import SpectraModel

    return SpectraModel()


def _lightcone_flow():
    from .models.inference_nets import LightconeEnsemble

    return LightconeEnsemble()


def _galaxy_flow():
    from .models.inference_nets import GalaxyNet
    from .sim.galaxies import GALAXY_PARAMETERS, PROPERTIES

    return GalaxyNet(len(PROPERTIES), len(GALAXY_PARAMETERS))


_SPECS = (ModelSpec("hi_unet", "hi", _hi_unet, ((1, 1, 16, 16, 16),), ((1, 1, 16, 16, 16),)),
          ModelSpec("deblend_unet", "deblend", _deblend_unet, ((1, 4, 16, 16), (1, 6, 16, 16)),
                    ((1, 1, 16, 16), (1, 4, 16, 16))),
          ModelSpec("spectra_net", "spectra", _spectra_net, ((2, 3840, 2), (2, 960, 2)),
                    ((3, 2, 13), (2, 128), (2,), (2, 12), (2, 960))),
          ModelSpec("lightcone_flow", "inference", _lightcone_flow, ((1, 8, 8, 672),), ((1, 6),)),
          ModelSpec("galaxy_flow", "inference", _galaxy_flow, ((2, 11),), ((2, 6),)))
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}
_CACHE: dict[tuple[str, str, str], object] = {}
_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}    # one per model, so loading one never holds up another
_LOCKS_GUARD = threading.Lock()


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_card(name: str, model_dir: Path = MODEL_DIR) -> tuple[dict, str]:
    """(front matter dict, Markdown body) of a model's card."""
    path = model_dir / name / "card.md"
    if not path.exists():
        err = UnknownModelError(f"model {name} has no card ({name}/card.md under the model folder); train it with "
                                "`python -m astroml_core.train`")
        err.path = str(path)                       # the full path, for logs only
        raise err
    text = path.read_text()
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def load_card(name: str, model_dir: Path = MODEL_DIR) -> ModelCard:
    """A model's card with its file's sha256 (what a result records of the model behind it)."""
    front, _ = read_card(name, model_dir)
    return ModelCard(name, front, sha256(model_dir / name / "card.md"))


def model_provenance(name: str) -> dict[str, str]:
    """A shipped model's name, version (its weights' sha256, short) and its card's sha256: what a campaign or
    an exported catalogue records of the model behind it."""
    card = load_card(name)
    return {"model_name": name, "model_version": f"weights {card.weights_sha256[:12]}", "card_sha256": card.sha256}


def write_card(name: str, front: dict, body: str, model_dir: Path = MODEL_DIR) -> Path:
    """Write ``card.md`` with the weights' sha256 filled in."""
    folder = model_dir / name
    front = dict(front, weights="weights.pt", weights_sha256=sha256(folder / "weights.pt"))
    path = folder / "card.md"
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body)
    return path


def load_model(name: str, device=None, model_dir: Path = MODEL_DIR):
    """The shipped model ``name`` in eval mode on ``device`` (default: choose_device()), its card attached,
    cached per process."""
    import torch

    from .service.device import choose_device

    if name not in MODELS:
        raise UnknownModelError(f"unknown model '{name}'; shipped models: {sorted(MODELS)}")
    device = torch.device(device) if device is not None else choose_device()
    key = (name, str(device), str(model_dir))
    if key in _CACHE:                   # a loaded model is served without waiting on any lock
        return _CACHE[key]
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key in _CACHE:
            return _CACHE[key]
        card = load_card(name, model_dir)
        weights = model_dir / name / "weights.pt"
        if not weights.exists() or sha256(weights) != card.weights_sha256:
            raise AstroMLError(f"{weights} is missing or does not match its card's sha256; retrain with "
                               f"`{card.front.get('command', 'python -m astroml_core.train')}`")
        module = MODELS[name].factory()
        module.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
        module.to(device).eval()
        module.card = card
        _CACHE[key] = module
        return module
