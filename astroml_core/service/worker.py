"""The inference service: one worker thread per process runs heavy jobs one after another, so browser
sessions that press Detect together share the device (and its memory) instead of fighting over it.

``submit(fn, *args, **kwargs)`` returns a :class:`Job` at once; the function is called with a
``progress(fraction, message)`` keyword that the job records (and that raises :class:`Cancelled` once
the job is cancelled, so work stops at its next progress report). ``job.future`` is a
``concurrent.futures.Future`` (``asyncio.wrap_future`` turns it into an awaitable).

Jobs submitted with the same ``key`` (a hashable naming the inputs and settings, e.g. a file's version
and the method) share a result: the first one runs, later ones get its result without running, so a
class of thirty pressing Detect on the demo cube runs the model once. Shared results are read-only.
"""
from __future__ import annotations

import itertools
import os
import queue
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

from ..errors import AstroMLError

__all__ = ["Job", "Cancelled", "InferenceService", "service", "background", "file_key"]

RESULTS_KEPT = 32   # keyed results remembered per service (most recently used)


class Cancelled(AstroMLError):
    """The job was cancelled by its owner."""

    title = "Stopped"


@dataclass
class Job:
    """A queued or running piece of work, its progress, and its result (``future``)."""

    id: int
    name: str
    future: Future = field(default_factory=Future)
    fraction: float = 0.0
    message: str = "queued"
    _cancel: threading.Event = field(default_factory=threading.Event)
    _service: "InferenceService | None" = None

    def cancel(self) -> None:
        """Stop the job: at once if it is still queued (its future is cancelled), else at its next
        progress report (its future then holds :class:`Cancelled`)."""
        self._cancel.set()
        self.future.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def ahead(self) -> int:
        """Jobs that will run before this one (0 when it is running)."""
        return self._service.position(self) if self._service else 0

    def report(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled(f"{self.name} cancelled")
        self.fraction, self.message = float(fraction), message or self.message


class InferenceService:
    """A FIFO of jobs served by one daemon thread (created on first use)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Job, Callable, tuple, dict]] = queue.Queue()
        self._waiting: list[Job] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._results: OrderedDict[Hashable, Any] = OrderedDict()

    def submit(self, fn: Callable[..., Any], *args, name: str | None = None, key: Hashable | None = None,
               **kwargs) -> Job:
        """Queue ``fn(*args, progress=job.report, **kwargs)``; returns its Job (already finished when a job
        with the same ``key`` has run)."""
        job = Job(next(self._ids), name or getattr(fn, "__name__", "job"), _service=self)
        with self._lock:
            if key is not None and key in self._results:
                self._results.move_to_end(key)
                job.fraction, job.message = 1.0, "done (shared)"
                job.future.set_result(self._results[key])
                return job
            self._waiting.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="astroml-inference", daemon=True)
                self._thread.start()
        self._queue.put((job, fn, args, kwargs, key))
        return job

    def position(self, job: Job) -> int:
        with self._lock:
            return self._waiting.index(job) if job in self._waiting else 0

    def _serve(self) -> None:
        while True:
            job, fn, args, kwargs, key = self._queue.get()
            with self._lock:
                if job in self._waiting:
                    self._waiting.remove(job)
                shared = key is not None and key in self._results
                result = self._results.get(key) if shared else None
            if job.future.done():           # cancelled while queued
                continue
            job.future.set_running_or_notify_cancel()
            job.message = "running"
            try:
                if not shared:
                    result = fn(*args, progress=job.report, **kwargs)
            except BaseException as exc:   # the owner sees it through the future
                job.future.set_exception(exc)
                continue
            if key is not None:
                with self._lock:
                    self._results[key] = result
                    self._results.move_to_end(key)
                    while len(self._results) > RESULTS_KEPT:
                        self._results.popitem(last=False)
            job.future.set_result(result)


def file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    """A file's version for a job key: resolved path, size and modification time (an edited file is new)."""
    p = Path(path).resolve()
    st = p.stat()
    return str(p), st.st_size, st.st_mtime_ns


_SERVICE = InferenceService()
_BACKGROUND = InferenceService()


def service() -> InferenceService:
    """This process's inference service."""
    return _SERVICE


def background() -> InferenceService:
    """A second queue for long CPU-only jobs (UMAP and t-SNE maps, a minute each), so that they never
    hold up a user's detection or classification waiting in the inference queue."""
    return _BACKGROUND
