"""Pages built on a worker thread, not on the event loop every visitor shares.

Bokeh builds a session's document inside the request that asks for the page, on the server's one event
loop: ~0.5-0.7 s of Python for a page here on 2 cores, during which no other visitor's request, click or
upload is answered (a class opening the app at once queues behind each other's pages). Bokeh awaits an
application's ``on_session_created`` before it calls ``initialize_document``; :class:`OffLoopApplication`
does the build in that await, on a thread of its own, and makes the later ``initialize_document`` a no-op
for the document it built. The new document belongs to no session yet, so nothing else touches it while
it is built; afterwards Panel is told the document lives on the loop's thread again.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import Callable

from bokeh.application.handlers import FunctionHandler
from panel.io.application import Application, _eval_panel  # Panel's own route wrapper: onload, logging
from panel.io.state import state

__all__ = ["OffLoopApplication", "offloop_app"]

log = logging.getLogger("astroml.offloop")
BUILD_THREADS = 1       # one page at a time: building is Python under the GIL, so a second thread would add
                        # no speed, only the chance of two builds racing in global state (HoloViews, config)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=BUILD_THREADS, thread_name_prefix="astroml-page")


class OffLoopApplication(Application):
    """A Panel application whose documents are initialised on a worker thread (see the module's docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._built: weakref.WeakSet = weakref.WeakSet()

    async def on_session_created(self, session_context) -> None:
        await super().on_session_created(session_context)
        doc = session_context._document
        loop_thread = threading.get_ident()
        build = partial(contextvars.copy_context().run, super().initialize_document, doc)
        try:
            await asyncio.get_running_loop().run_in_executor(_pool(), build)
        except Exception:           # build again on the loop, where the page's own error handling shows it
            log.exception("page build off the event loop failed; building it on the loop")
            doc.clear()
            return
        finally:
            state._thread_id_[doc] = loop_thread     # Panel dispatches the document's events on this thread
        self._built.add(doc)

    def initialize_document(self, doc) -> None:
        if doc in self._built:
            self._built.discard(doc)
            return
        super().initialize_document(doc)


def offloop_app(page: Callable[[], object], title: str) -> OffLoopApplication:
    """The application for one route: ``page()`` builds the page's template (as ``pn.serve`` would wrap it)."""
    return OffLoopApplication(FunctionHandler(partial(_eval_panel, page, None, title, True, False)))
