"""Changing a page's own Bokeh models from widget events that Panel processes without the document lock, and
I/O off the event loop (model jobs go through :mod:`app.components.jobs`)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial, wraps

import panel as pn

__all__ = ["with_document_lock", "next_tick", "run_io", "every", "held", "served"]


def held(callback):
    """Wrap a one-off callback so the model changes it makes reach the browser as one message, one patch to
    serialize and one re-render, not one per property (a pixel click or a channel step: image, labels, marker…).

    Held messages go straight to the socket: a periodic caller must not outrun the browser (the cube page's
    player waits for each frame to be drawn, see :mod:`app.pages.cubes.player`)."""
    @wraps(callback)
    def wrapper(*args, **kwargs):
        with pn.io.hold():
            return callback(*args, **kwargs)
    return wrapper


def with_document_lock(callback) -> None:
    """Run ``callback`` now, or on the next tick when served: some widget events (Tabulator selection,
    button groups) are processed in Panel's unlocked context, where the page's own Bokeh models must
    not be changed."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.add_next_tick_callback(callback)
    else:
        callback()


def next_tick(doc, callback) -> bool:
    """Call ``callback`` on ``doc``'s next tick, with its lock held; False (and nothing is called) once the
    session has ended: a tab closed while its job ran must not reach a destroyed document."""
    context = doc.session_context
    if context is None or getattr(context, "destroyed", False):
        return False
    try:
        doc.add_next_tick_callback(callback)
    except AttributeError:       # destroyed between the check and the call (Bokeh clears its callbacks)
        return False
    return True


def run_io(fn, then, on_error, *, pool: ThreadPoolExecutor | None = None) -> None:
    """Run ``fn()`` (opening and checking a file, a database write) on an I/O thread and call ``then(result)``
    (or ``on_error(exc)``) with the document lock held, so a slow disk or a hostile file never holds up
    the server's event loop. Inline outside a served session, and while the page is still being built
    (before the browser has it, the result belongs in its first render). ``pool``: threads of the caller's
    own, where its work must not wait behind file opening (or hold it up)."""
    if not served() or not pn.state.loaded:
        _inline(fn, then, on_error)
        return
    _deliver((pool or _io_pool()).submit(fn), then, on_error)


def served() -> bool:
    """True inside a served session (callbacks then go through the document's ticks)."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


def _inline(fn, then, on_error) -> None:
    try:
        result = fn()
    except Exception as exc:
        on_error(exc)
        return
    then(result)


def _deliver(future, then, on_error) -> None:
    """Await ``future`` off the event loop's critical path; hand its outcome to the document's next tick."""
    doc = pn.state.curdoc

    async def wait() -> None:
        try:
            result = await asyncio.wrap_future(future)
        except Exception as exc:
            next_tick(doc, partial(on_error, exc))
            return
        next_tick(doc, partial(then, result))

    pn.state.execute(wait)


@lru_cache(maxsize=1)
def _io_pool() -> ThreadPoolExecutor:
    """A few threads shared by every session for file and database I/O (not the model queue, so opening
    a file never waits behind someone's detection)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="astroml-io")


def every(callback, period_ms: int):
    """Call ``callback`` every ``period_ms`` with the document lock held, on Bokeh's own periodic callback;
    returns a function that stops it (None outside a served session). Panel's ``add_periodic_callback``
    would also update the session's busy state on each call, which with thirty open sessions polling
    kept the server's event loop busy and starved the inference thread."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return None
    handle = doc.add_periodic_callback(callback, period_ms)
    return lambda: doc.remove_periodic_callback(handle)

