"""The app's one way to run model work: submit, relay progress, cancel, and hand back a result or an error.

:func:`start_job` queues ``fn(*args, progress=...)`` on the process's inference service (one device, shared by
every session; same-``key`` jobs share one run) and calls the page back on its document's next tick, lock held:
``on_progress(fraction, message)`` while it runs, then exactly one of ``then(result)``, ``on_cancel()`` or
``on_error(exc)``. Outside a served session (tests, notebooks) it runs at once on this thread, with the same
callbacks in the same order. :class:`JobPanel` is the progress bar, status line and Cancel button most pages
show for it, errors going to the page's banner.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import CancelledError
from functools import partial
from typing import Any, Callable

import panel as pn

from astroml_core.service.worker import Cancelled, InferenceService, Job, service

from .locking import next_tick, served

__all__ = ["JobHandle", "start_job", "JobPanel", "POLL_S"]

POLL_S = 0.25           # how often a served job's progress is relayed to its page


class JobHandle:
    """A started job: cancel it, ask whether it has ended."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.ended = False

    def cancel(self) -> None:
        """Stop it: at once while queued, else at its next progress report."""
        self.job.cancel()


def start_job(fn: Callable[..., Any], *args, name: str, then: Callable[[Any], None],
              on_error: Callable[[BaseException], None], on_progress: Callable[[float, str], None] | None = None,
              on_cancel: Callable[[], None] | None = None, key=None,
              started: Callable[[JobHandle], None] = lambda handle: None,
              queue: InferenceService | None = None) -> JobHandle:
    """Run ``fn(*args, progress=...)`` as a job named ``name`` (what the queue shows others) and report back;
    see the module docstring. Returns at once when served. ``started(handle)`` is called before any other
    callback (unserved, the job runs before this returns, and may be cancelled from its own progress).
    ``queue``: the service that runs it when served (default: the inference service; ``background()`` for
    long CPU-only work that must not hold up the model's queue)."""
    report = on_progress or (lambda fraction, message: None)
    stopped = on_cancel or (lambda: None)
    if not served():
        return _run_here(fn, args, name, then, on_error, report, stopped, started)
    handle = JobHandle((queue or service()).submit(fn, *args, name=name, key=key))
    started(handle)
    pn.state.execute(partial(_relay, pn.state.curdoc, handle, then, on_error, report, stopped))
    return handle


def _run_here(fn, args, name, then, on_error, report, stopped, started) -> JobHandle:
    """The unserved path: the same callbacks, in the same order, on this thread."""
    handle = JobHandle(Job(0, name))
    started(handle)

    def progress(fraction: float, message: str = "") -> None:
        handle.job.report(fraction, message)          # raises Cancelled once cancelled
        report(handle.job.fraction, handle.job.message)

    try:
        result = fn(*args, progress=progress)
    except Cancelled:
        handle.ended = True
        stopped()
        return handle
    except Exception as exc:
        handle.ended = True
        on_error(exc)
        return handle
    handle.ended = True
    then(result)
    return handle


def _waiting_text(job: Job) -> str:
    ahead = job.ahead
    return f"queued behind {ahead} other job{'s' if ahead > 1 else ''}" if ahead else job.message


async def _relay(doc, handle: JobHandle, then, on_error, report, stopped) -> None:
    """Poll the job off the loop's critical path; each report and the outcome reach the page on its next tick."""
    job = handle.job
    done = asyncio.wrap_future(job.future)
    while not done.done():
        await asyncio.wait([done], timeout=POLL_S)
        if not done.done() and not next_tick(doc, partial(report, job.fraction, _waiting_text(job))):
            return                                  # the tab was closed: nobody to tell
    handle.ended = True
    try:
        result = done.result()
    except (Cancelled, CancelledError, asyncio.CancelledError):     # cancelled running, or while queued
        next_tick(doc, stopped)
        return
    except Exception as exc:
        next_tick(doc, partial(on_error, exc))
        return
    next_tick(doc, partial(then, result))


class JobPanel:
    """A page's job on screen: a progress bar and a status line while it runs, Cancel if it may be stopped,
    the trigger button disabled meanwhile, and failures in the page's banner. ``css``: class prefix
    (``<css>-progress``, ``<css>-cancel``) the page's tests and styles find them by."""

    def __init__(self, banner, *, css: str = "job", status: pn.pane.HTML | None = None,
                 trigger: pn.widgets.Button | None = None, cancellable: bool = False, width: int = 200) -> None:
        self.banner, self.trigger = banner, trigger
        self.progress = pn.indicators.Progress(value=0, max=100, width=width, visible=False, css_classes=[f"{css}-progress"])
        self.status = status if status is not None else pn.pane.HTML("", css_classes=[f"{css}-status"])
        self.cancel_button = pn.widgets.Button(label="Cancel", width=90, visible=False, css_classes=[f"{css}-cancel"])
        self.cancel_button.on_click(lambda event: self.cancel())
        self._cancellable = cancellable
        self.handle: JobHandle | None = None

    @property
    def busy(self) -> bool:
        """True while a job started here has not ended."""
        return self.handle is not None and not self.handle.ended

    def run(self, fn: Callable[..., Any], *args, name: str, then: Callable[[Any], None], failed: str,
            cancelled: str = "Stopped", key=None, on_progress: Callable[[float, str], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> JobHandle:
        """Start ``fn(*args, progress=...)``; ``then(result)`` on success, else the status says ``failed`` (or
        ``cancelled``) and the banner the error. ``on_progress`` replaces the default status text."""
        self._started(name)

        def report(fraction: float, message: str) -> None:
            self.progress.param.update(value=int(100 * fraction), visible=True)
            (on_progress or self._say)(fraction, message)

        def done(result) -> None:
            self._ended()
            then(result)

        def error(exc: BaseException) -> None:
            self._ended(failed)
            (on_error or self.banner.error)(exc)

        return start_job(fn, *args, name=name, key=key, then=done, on_error=error, on_progress=report,
                         on_cancel=lambda: self._ended(cancelled), started=partial(setattr, self, "handle"))

    def cancel(self) -> None:
        """Stop the running job (its page hears ``cancelled``)."""
        if self.busy:
            self.handle.cancel()

    def _say(self, fraction: float, message: str) -> None:
        self.status.object = f"{message}… {fraction:.0%}"

    def _started(self, name: str) -> None:
        self.progress.param.update(value=0, visible=True)
        self.cancel_button.visible = self._cancellable
        if self.trigger is not None:
            self.trigger.disabled = True
        self.status.object = f"{name[:1].upper()}{name[1:]}…"

    def _ended(self, text: str | None = None) -> None:
        self.progress.visible = False
        self.cancel_button.visible = False
        if self.trigger is not None:
            self.trigger.disabled = False
        if text is not None:
            self.status.object = text
