"""Changing a page's own Bokeh models from widget events that Panel processes without the document lock."""
from __future__ import annotations

import asyncio
from functools import partial

import panel as pn

__all__ = ["with_document_lock", "run_job", "every"]


def with_document_lock(callback) -> None:
    """Run ``callback`` now, or on the next tick when served: some widget events (Tabulator selection,
    button groups) are processed in Panel's unlocked context, where the page's own Bokeh models must
    not be changed."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.add_next_tick_callback(callback)
    else:
        callback()


def run_job(fn, then, on_error, *, name: str, key=None) -> None:
    """Run ``fn(progress=...)`` on the inference service and call ``then(result)`` (or ``on_error(exc)``)
    with the document lock held; outside a served session, run it here and now. Model work never runs
    in a Bokeh callback, where it would hold up every other event of the session. Jobs with the same
    ``key`` share one run (see :mod:`astroml_core.service.worker`)."""
    from astroml_core.service.worker import service

    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        try:
            result = fn(progress=lambda *a: None)
        except Exception as exc:
            on_error(exc)
            return
        then(result)
        return
    job = service().submit(fn, name=name, key=key)

    async def wait() -> None:
        try:
            result = await asyncio.wrap_future(job.future)
        except Exception as exc:
            doc.add_next_tick_callback(partial(on_error, exc))
            return
        doc.add_next_tick_callback(partial(then, result))

    pn.state.execute(wait)


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

