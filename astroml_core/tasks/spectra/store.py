"""One analysed survey per file per process, shared by every browser session that opens it.

Analysing 40k spectra takes seconds (classification, VAE, PCA) and its UMAP about a minute, so each
runs once, as keyed jobs on the inference services (:func:`survey_key`, :func:`map_key`: sessions that ask
for the same file version share one run), and is cached on disk. Surveys are read-only once made, so sharing
them between sessions is safe.
"""
from __future__ import annotations

from pathlib import Path

from ...config import settings
from ...data.spectra import open_spectra
from ...service.worker import Job, background, file_key, service
from ...display.scatter import warm_up
from ...progress import Progress, quiet
from . import model as spectra_model
from .survey import Survey, add_embedding, analyse, cache_key, load_survey, save_survey, scatter_data

__all__ = ["prepare_survey", "add_map", "survey_key", "map_key", "warm"]


def _weights_sha() -> str:
    """The shipped classifier's weights sha256: a cached analysis is valid for these weights only."""
    return spectra_model.card().weights_sha256


def prepare_survey(path: Path, *, progress: Progress = quiet) -> Survey:
    """Open, then load the cached analysis or make it (and cache it)."""
    cfg = settings()
    progress(0.01, "opening")
    spectra = open_spectra(path, max_bytes=cfg.max_cube_bytes)
    key = cache_key(path, _weights_sha())
    survey = load_survey(spectra, cfg.cache_dir, key)
    if survey is None:
        survey = analyse(spectra, progress=progress)
        save_survey(survey, cfg.cache_dir, key)
    progress(0.99, "preparing the map")
    for by_truth in (True, False):          # numba compiles the map's aggregations now, not on the first pan
        warm_up(scatter_data(survey, survey.embeddings["vae"].coords, by_truth=by_truth))
    return survey


def add_map(survey: Survey, method: str, *, progress: Progress = quiet) -> Survey:
    """Add a UMAP or t-SNE map to the survey (and to its cache), reporting the map's own phases and iterations."""
    name, n = {"umap": "UMAP", "tsne": "t-SNE"}.get(method, method), len(survey.spectra)
    noun = "spectrum" if n == 1 else "spectra"
    add_embedding(survey, method, progress=lambda f, message: progress(f, f"{name} of {n:,} {noun}: {message}"))
    path = survey.spectra.path
    if path is not None:
        save_survey(survey, settings().cache_dir, cache_key(path, _weights_sha()))
    return survey


def survey_key(path: str | Path) -> tuple | None:
    """The job key of ``path``'s analysis (one run per file version for every session); None for no file."""
    return ("spectra analysis", *file_key(path)) if Path(path).is_file() else None


def map_key(path: str | Path | None, method: str) -> tuple | None:
    """The job key of a file's ``method`` map (one run per file version and method)."""
    return ("spectra map", *file_key(path), method) if path is not None and Path(path).is_file() else None


def warm(path: Path) -> Job:
    """Analyse ``path`` and make its UMAP now, with the keys the page uses, so the first visitor shares the
    finished jobs; returns the map's job (its future is done when both are)."""
    finished = Job(0, "warm-up")

    def map_done(f) -> None:
        exc = f.exception()
        finished.future.set_exception(exc) if exc else finished.future.set_result(f.result())

    def analysed(f) -> None:
        if f.exception() is not None:
            finished.future.set_exception(f.exception())
            return
        background().submit(add_map, f.result(), "umap", name="umap map",
                            key=map_key(path, "umap")).future.add_done_callback(map_done)

    service().submit(prepare_survey, Path(path).resolve(), name="spectra analysis",
                     key=survey_key(path)).future.add_done_callback(analysed)
    return finished
