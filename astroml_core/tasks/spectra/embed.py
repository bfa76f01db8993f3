"""2-D maps of a spectrum survey: UMAP and t-SNE of the classifier's features, the VAE latent, PCA.

Each ``Embedding`` keeps what it needs to place new spectra into the same map without recomputing
it (``place``): UMAP's and openTSNE's ``transform``, the PCA basis, the VAE latent axes. UMAP and t-SNE
run on the features standardised and reduced to 32 principal components, which keeps their
neighbour search fast and the map the same for the same seed.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
import numpy as np

from ...errors import NonFiniteError, ShapeError
from ...progress import Progress, quiet, span

__all__ = ["Embedding", "embed", "place", "METHODS", "LABELS"]

METHODS = ("umap", "tsne", "vae", "pca")
LABELS = {"umap": "UMAP of the classifier's features", "tsne": "t-SNE of the classifier's features",
          "vae": "VAE latent (two most spread axes)", "pca": "PCA of the spectra (4-pixel bins)"}
N_PRE = 32
MIN_FOR_NEIGHBOURS = 10      # below this a neighbour graph means nothing: VAE latent and PCA only
SMALL_SET = 100              # below this UMAP's neighbours and t-SNE's perplexity shrink to fit the set


@dataclass
class Embedding:
    """2-D coordinates of a set and the fitted maps that place new points beside them."""

    method: str
    coords: np.ndarray                       # (N, 2) float32
    axes: tuple[str, str]
    state: dict = field(default_factory=dict)


def _standardise(x: np.ndarray, state: dict | None = None) -> tuple[np.ndarray, dict]:
    """Standardise and project to N_PRE principal components (fitting both when ``state`` is None)."""
    x = np.asarray(x, np.float32)
    if state is None:
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
        z = (x - mean) / std
        _, _, vt = np.linalg.svd(z[:: max(1, len(z) // 20_000)], full_matrices=False)
        state = dict(mean=mean, std=std, basis=vt[:N_PRE].T.astype(np.float32))
    return ((x - state["mean"]) / state["std"]) @ state["basis"], state


class _EpochCounter(io.StringIO):
    """A file for UMAP's tqdm bar (``bar_format`` "{n} {total}"): each line it writes is reported as layout epoch
    n of total, so the progress comes from the optimisation itself."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self._progress = progress

    def write(self, text: str) -> int:
        """Report the last "n total" pair in ``text``."""
        pairs = re.findall(r"(\d+) (\d+)", text)
        if pairs:
            n, total = map(int, pairs[-1])
            if total:
                self._progress(n / total, f"layout: epoch {n} of {total}")
        return len(text)


def _umap(x: np.ndarray, seed: int, progress: Progress = quiet):
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "astroml-numba"))
    import umap

    small = len(x) < SMALL_SET            # a spectral start needs a graph bigger than a handful of points
    bar = dict(disable=False, file=_EpochCounter(span(progress, 0.35, 0.99)), bar_format="{n} {total}\n", mininterval=0.5)
    mapper = umap.UMAP(n_neighbors=min(15, len(x) - 1), min_dist=0.1, random_state=seed, n_jobs=1, low_memory=True,
                       init="random" if small else "spectral", tqdm_kwds=bar)
    progress(0.02, "neighbour graph and spectral start")
    coords = mapper.fit_transform(x)
    mapper.tqdm_kwds = {}                 # the counter holds the caller's progress: not pickled with the map
    return coords, mapper


TSNE_EXAGGERATION_ITER, TSNE_ITER = 250, 500        # openTSNE's defaults, run here phase by phase to report each


def _tsne(x: np.ndarray, seed: int, progress: Progress = quiet):
    """openTSNE's ``fit`` (the same two optimisation phases, so the same map), reporting its affinities and every
    25 iterations of each phase through openTSNE's callbacks."""
    from openTSNE import TSNE

    perplexity = 30 if len(x) >= SMALL_SET else max(2.0, (len(x) - 1) / 3)     # perplexity must stay below N / 3
    tsne = TSNE(perplexity=perplexity, n_jobs=2, random_state=seed, verbose=False,
                early_exaggeration_iter=TSNE_EXAGGERATION_ITER, n_iter=TSNE_ITER)
    progress(0.02, "affinities (nearest neighbours)")
    emb = tsne.prepare_initial(x)
    total = TSNE_EXAGGERATION_ITER + TSNE_ITER
    for done, n_iter, exaggeration, momentum in ((0, TSNE_EXAGGERATION_ITER, tsne.early_exaggeration, tsne.initial_momentum),
                                                 (TSNE_EXAGGERATION_ITER, TSNE_ITER, tsne.exaggeration, tsne.final_momentum)):
        def report(i: int, error: float, embedding, done: int = done) -> bool:
            progress(0.3 + 0.69 * (done + i) / total, f"optimisation: iteration {done + i} of {total}")
            return False                    # never stop early
        progress(0.3 + 0.69 * done / total, f"optimisation: iteration {done} of {total}")
        emb = emb.optimize(n_iter=n_iter, exaggeration=exaggeration, momentum=momentum, inplace=True,
                           propagate_exception=True, callbacks=report, callbacks_every_iters=25)
    return np.asarray(emb), emb


def embed(method: str, *, features: np.ndarray | None = None, latent: np.ndarray | None = None,
          binned: np.ndarray | None = None, seed: int = 0, progress: Progress = quiet) -> Embedding:
    """A 2-D map by ``method``: 'umap'/'tsne' need ``features``, 'vae' ``latent``, 'pca' ``binned`` (N, bins).
    ``progress(fraction, message)`` hears UMAP's layout epochs and t-SNE's phases and iterations as they run."""
    if method in ("umap", "tsne"):
        if len(features) < MIN_FOR_NEIGHBOURS:
            raise ShapeError(f"a {method.upper()} map needs at least {MIN_FOR_NEIGHBOURS} spectra (its neighbour "
                             f"graph), this set has {len(features)}: use the VAE latent or PCA")
        if not np.isfinite(features).all():
            raise NonFiniteError(f"the classifier's features hold NaN for {int((~np.isfinite(features)).any(1).sum())} "
                                 f"spectra: a {method.upper()} map cannot place them")
        x, pre = _standardise(features)
        coords, fitted = (_umap if method == "umap" else _tsne)(x, seed, progress)
        return Embedding(method, np.asarray(coords, np.float32), (f"{method.upper()} 1", f"{method.upper()} 2"),
                         dict(pre=pre, fitted=fitted))
    if method == "vae":
        order = np.argsort(np.asarray(latent).std(axis=0))[::-1][:2]
        return Embedding(method, np.asarray(latent)[:, order].astype(np.float32),
                         (f"latent z{order[0] + 1}", f"latent z{order[1] + 1}"), dict(order=order))
    if method == "pca":
        b = np.asarray(binned, np.float32)
        mean = b.mean(axis=0)
        _, _, vt = np.linalg.svd(b[:: max(1, len(b) // 20_000)] - mean, full_matrices=False)
        basis = np.zeros((b.shape[1], 2), np.float32)      # one or two spectra have fewer than two components
        basis[:, :min(2, len(vt))] = vt[:2].T
        return Embedding(method, ((b - mean) @ basis).astype(np.float32), ("PC 1", "PC 2"), dict(mean=mean, basis=basis))
    raise ValueError(f"unknown embedding {method!r}; choose one of {METHODS}")


def place(embedding: Embedding, *, features: np.ndarray | None = None, latent: np.ndarray | None = None,
          binned: np.ndarray | None = None) -> np.ndarray:
    """Coordinates of new spectra in an existing map (the map itself is not changed)."""
    s = embedding.state
    if embedding.method in ("umap", "tsne"):
        x, _ = _standardise(features, s["pre"])
        return np.asarray(s["fitted"].transform(x), np.float32)
    if embedding.method == "vae":
        return np.asarray(latent)[:, s["order"]].astype(np.float32)
    return ((np.asarray(binned, np.float32) - s["mean"]) @ s["basis"]).astype(np.float32)
