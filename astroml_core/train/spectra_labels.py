"""Fine-tune spectra_net on vetted labels: ``python -m astroml_core.train spectra --labels votes.ecsv``.

The labels file is a vetting export (``astroml vetting export``): each row names a spectrum (``file``,
``row``) and its consensus (``ds_label`` when it has ≥ 3 votes, else ``majority``). Rows whose
consensus is one of the classifier's classes are kept; "UNEXPECTED" and unknown labels are counted and
left out (the anomaly score, not the classifier, is for those). Each ensemble member is trained a few
epochs at a low learning rate on the voted spectra mixed with freshly simulated ones of every class (so
it does not forget them); the temperature and the anomaly reference are kept. The result is written
with its own card to ``<output>/spectra_net`` — never over the shipped weights.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..errors import InvalidVoteError
from ..sim.spectra import CLASSES
from .spectra import TRAIN_SEED, TrainConfig, _train, make_set

__all__ = ["VotedSet", "read_labels", "fine_tune", "run_labels"]

REPLAY_SEED = TRAIN_SEED + 500


@dataclass
class VotedSet:
    """Voted spectra as network inputs, their class index, and what was left out and why."""

    x: np.ndarray
    y: np.ndarray
    skipped: dict[str, int]


def read_labels(path: str | Path) -> VotedSet:
    """The voted spectra of a vetting export whose consensus is one of the classes."""
    from ..data.spectra import open_spectra
    from ..tasks.spectra.preprocess import normalise

    table = Table.read(path)
    missing = {"file", "row"} - set(table.colnames)
    if missing or not ({"ds_label", "majority"} & set(table.colnames)):
        raise InvalidVoteError(f"{Path(path).name} is not a vetting export: it needs file, row and ds_label or "
                               "majority columns (`astroml vetting export ID -o votes.ecsv --as ADMIN`)")
    index = {c: i for i, c in enumerate(CLASSES)}
    skipped: dict[str, int] = {}
    wanted: dict[str, list[tuple[int, int]]] = {}
    for r in table:
        ds = str(r["ds_label"]) if "ds_label" in table.colnames else ""
        label = ds if ds not in ("", "--", "nan") else str(r["majority"]) if "majority" in table.colnames else ""
        if label not in index:
            skipped[label or "no votes"] = skipped.get(label or "no votes", 0) + 1
            continue
        wanted.setdefault(str(r["file"]), []).append((int(r["row"]), index[label]))
    xs, ys = [], []
    for file, pairs in wanted.items():
        spectra = open_spectra(_under_root(file))
        rows = np.array([p[0] for p in pairs])
        order = np.argsort(rows)
        flux, ivar = spectra.rows(rows[order])
        xs.append(normalise(flux, ivar).astype(np.float16))
        ys.append(np.array([p[1] for p in pairs])[order])
    if not xs:
        raise InvalidVoteError(f"no row of {Path(path).name} has a consensus among the classes "
                               f"(left out: {skipped or 'nothing'})")
    return VotedSet(np.concatenate(xs), np.concatenate(ys).astype(np.int64), skipped)


def _under_root(file: str) -> Path:
    """A vetting export's file: absolute as written by old exports, else relative to the data root."""
    from ..config import settings

    path = Path(file)
    return path if path.is_absolute() else settings().data_root / path


def _predict(model, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model.ensemble(torch.from_numpy(x.astype(np.float32))).mean(0).argmax(-1).numpy()


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float((_predict(model, x) == y).mean())


def fine_tune(model, voted: VotedSet, *, replay: int = 2000, epochs: int = 4, repeat: int = 4, lr: float = 3e-4,
              seed: int = 0, log=print):
    """Train every member on the voted spectra (each shown ``repeat`` times per epoch) + ``replay``
    simulated spectra; returns the model in eval mode."""
    import torch

    sim = make_set(REPLAY_SEED + seed, replay)
    x = np.concatenate([np.repeat(voted.x, repeat, axis=0), sim.x])
    y = np.concatenate([np.repeat(voted.y, repeat), sim.y])
    cfg = TrainConfig(lr=lr, batch=64, seed=seed)
    for k, member in enumerate(model.ensemble.members):
        def loss_of(idx, member=member):
            return torch.nn.functional.cross_entropy(member(torch.from_numpy(x[idx].astype(np.float32))),
                                                     torch.from_numpy(y[idx]))

        _train(member, len(y), cfg, epochs, seed + k, loss_of, log, f"fine-tune member {k}", 1e-4)
    model.eval()
    return model


def run_labels(labels: str | Path, output: str | Path, log=print) -> Path:
    """Fine-tune the shipped spectra_net on ``labels`` and write weights + card under ``output``."""
    import torch

    from ..registry import MODEL_DIR, load_model, read_card, write_card
    from ..tasks.spectra.model import NAME
    from .spectra import HELD_OUT_SEED

    started = time.time()
    voted = read_labels(labels)
    base = load_model(NAME, "cpu")
    model = type(base)(members=len(base.ensemble.members))
    model.load_state_dict(base.state_dict())
    model.eval()
    held = make_set(HELD_OUT_SEED, 1300)
    touched = np.union1d(voted.y, _predict(model, voted.x))  # classes voted for, and those the votes overrule
    other = ~np.isin(held.y, touched)

    def scores() -> tuple[float, float, float]:
        return (_accuracy(model, voted.x, voted.y), _accuracy(model, held.x, held.y),
                _accuracy(model, held.x[other], held.y[other]) if other.any() else float("nan"))

    before = scores()
    fine_tune(model, voted, log=log)
    after = scores()
    folder = Path(output) / NAME
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "weights.pt")
    front, _ = read_card(NAME)
    labels_sha = hashlib.sha256(Path(labels).read_bytes()).hexdigest()
    front = dict(front, command=f"python -m astroml_core.train spectra --labels {Path(labels).name}",
                 base_weights_sha256=front.get("weights_sha256"), labels_sha256=labels_sha,
                 voted_spectra=int(len(voted.y)), train_seconds=round(time.time() - started, 1),
                 voted_accuracy_before=round(before[0], 4), voted_accuracy_after=round(after[0], 4),
                 held_out_accuracy_before=round(before[1], 4), held_out_accuracy_after=round(after[1], 4),
                 held_out_unvoted_accuracy_before=round(before[2], 4),
                 held_out_unvoted_accuracy_after=round(after[2], 4))
    body = (f"# spectra_net fine-tuned on vetted labels\n\nBase: the shipped weights ({MODEL_DIR / NAME}, "
            f"sha256 {str(front['base_weights_sha256'])[:12]}…). Labels: {Path(labels).name} (sha256 {labels_sha[:12]}…),"
            f" {len(voted.y)} voted spectra; left out: {voted.skipped or 'none'}.\n\n"
            f"| accuracy | before | after |\n| --- | --- | --- |\n"
            f"| on the voted spectra (their consensus labels) | {before[0]:.3f} | {after[0]:.3f} |\n"
            f"| held-out simulated spectra (seed {HELD_OUT_SEED}, 1,300) | {before[1]:.3f} | {after[1]:.3f} |\n"
            f"| the same, classes the votes neither named nor overruled | {before[2]:.3f} | {after[2]:.3f} |\n\n"
            "The voted spectra are also the training set here, so their accuracy shows the votes were "
            "learnt, not that they generalise. Where votes relabel a class, held-out spectra of that class now "
            "disagree with the simulator's label by design; the last row shows what was kept. Temperature and anomaly "
            "reference are the base model's.\n")
    write_card(NAME, front, body, Path(output))
    log(f"voted {before[0]:.3f} → {after[0]:.3f}; held-out {before[1]:.3f} → {after[1]:.3f}; wrote {folder}")
    return folder
