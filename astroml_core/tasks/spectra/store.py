"""One analysed survey per file per process, shared by every browser session that opens it.

Analysing 40k spectra takes seconds (classification, VAE, PCA) and its UMAP about a minute, so each
runs once, as jobs on the inference service, and is cached on disk; sessions ask the store and wait on
the same job. Surveys are read-only once made, so sharing them between sessions is safe.
"""
from __future__ import annotations

import threading
from pathlib import Path

from ...config import settings
from ...data.spectra import open_spectra
from ...service.worker import Job, background, service
from ...display.scatter import warm_up
from ...progress import Progress, quiet
from . import model as spectra_model
from .survey import Survey, add_embedding, analyse, cache_key, load_survey, save_survey, scatter_data

__all__ = ["SurveyStore", "store", "prepare_survey", "add_map"]


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


class SurveyStore:
    """Jobs and finished surveys, keyed by resolved file path (and map method)."""

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()

    def _job(self, key: tuple[str, str], make) -> Job:
        with self._lock:
            job = self._jobs.get(key)
            if job is None or (job.future.done() and job.future.exception() is not None):
                job = self._jobs[key] = make()
            return job

    def open(self, path: str | Path) -> Job:
        """The job that analyses ``path`` (already finished when another session asked first)."""
        path = Path(path).resolve()
        version = f"{path.stat().st_size}-{path.stat().st_mtime_ns}" if path.is_file() else "missing"
        return self._job((str(path), f"analysis {version}"),       # a file changed on disk is analysed again
                         lambda: service().submit(prepare_survey, path, name="spectra analysis"))

    def embedding(self, survey: Survey, method: str) -> Job:
        """The job that adds ``method``'s map to ``survey`` (finished at once when the map exists)."""
        key = (str(survey.spectra.path or id(survey)), method)
        if method in survey.embeddings:
            with self._lock:
                job = self._jobs.get(key)
            if job is not None:
                return job
            job = Job(0, method)
            job.future.set_result(survey)
            with self._lock:
                self._jobs[key] = job
            return job
        return self._job(key, lambda: background().submit(add_map, survey, method, name=f"{method} map"))


_STORE = SurveyStore()


def store() -> SurveyStore:
    """This process's survey store."""
    return _STORE
