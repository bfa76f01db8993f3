"""Vetting-store writes on threads of their own (never on the event loop, never behind the model queue):
while another program holds the database's write lock, the voter sees "Database busy, retrying…" and
every other session keeps answering."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import Callable

import panel as pn

from astroml_core.vetting.store import on_busy

from ...components.locking import next_tick, run_io

__all__ = ["StoreWriter"]


@lru_cache(maxsize=1)
def _write_pool() -> ThreadPoolExecutor:
    """Threads for vetting-store writes, shared by every session and apart from the model queue and file
    opening: a database locked by another program holds up only the writes waiting for it."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="astroml-vetting-write")


class StoreWriter:
    """One page's writes, one at a time: ``writing`` while one is on its way, ``show_busy(attempt)`` (with
    the document lock held) each time the database is found locked and the write is retried."""

    def __init__(self, show_busy: Callable[[int], None]) -> None:
        self.writing = False
        self._show_busy = show_busy

    def write(self, write, then, failed) -> None:
        """Run ``write()`` on a vetting-write thread and call ``then(result)`` or ``failed(exc)`` with the
        document lock held. Outside a served session (headless tests), write here and now."""
        doc = pn.state.curdoc

        def busy(attempt: int, retry_in_s: float) -> None:       # on the write thread
            if doc is not None:
                next_tick(doc, partial(self._busy, attempt))

        def work():
            with on_busy(busy):
                return write()

        self.writing = True
        run_io(work, partial(self._done, then), partial(self._done, failed), pool=_write_pool())

    def _done(self, callback, value) -> None:
        """The write is over: the next may start; hand its outcome on."""
        self.writing = False
        callback(value)

    def _busy(self, attempt: int) -> None:
        """Report a retry, unless the write has finished meanwhile."""
        if self.writing:
            self._show_busy(attempt)
