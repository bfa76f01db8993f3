"""Making the cube page's moment and peak maps off the event loop: on threads of their own (through
``locking.run_io``), a spinner only for a map still coming after 300 ms, the page told of every result."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import Callable

import panel as pn

from ...components.locking import held, run_io

__all__ = ["MapRunner", "SPINNER_AFTER_MS"]

SPINNER_AFTER_MS = 300       # a map computed faster than this shows no spinner


@lru_cache(maxsize=1)
def _map_pool() -> ThreadPoolExecutor:
    """Threads of the maps' own: a map over many channels must not hold up file opening, nor wait behind it."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="astroml-maps")


class MapRunner:
    """Runs ``make(key)`` off the event loop (at once outside a served session) and hands ``done(key, map)``
    or ``failed(exc)`` back with the document lock held; ``pane`` spins while the latest request is slow."""

    def __init__(self, make: Callable, done: Callable, failed: Callable, pane) -> None:
        self._make, self._done, self._failed, self._pane = make, done, failed, pane
        self.pending: tuple | None = None        # the latest map asked for and not back yet

    def start(self, key: tuple) -> None:
        """Make the map of ``key``; the spinner shows if it is still the latest and not back after 300 ms."""
        self.pending = key
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_timeout_callback(partial(self._spin, key), SPINNER_AFTER_MS)
        run_io(partial(self._make, key), held(partial(self._back, key)), partial(self._back_failed, key),
               pool=_map_pool())

    def _spin(self, key: tuple) -> None:
        """A quick map (from the in-memory copy) never flashes the spinner: two more layouts of the page."""
        if self.pending == key:
            self._pane.loading = True

    def _settle(self, key: tuple) -> None:
        if self.pending == key:
            self.pending, self._pane.loading = None, False

    def _back(self, key: tuple, q) -> None:
        self._settle(key)
        self._done(key, q)

    def _back_failed(self, key: tuple, exc: BaseException) -> None:
        self._settle(key)
        self._failed(exc)
