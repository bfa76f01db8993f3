"""The app's job runner, without a browser: progress, result, error and cancel reach the page in order, served
(relayed from the inference service on the document's ticks) or not (run at once)."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from app.components.jobs import JobHandle, JobPanel, _relay, start_job
from astroml_core.errors import AstroMLError
from astroml_core.service.worker import InferenceService


def _counts(n: int, progress):
    for k in range(n):
        progress((k + 1) / n, f"step {k + 1} of {n}")
    return n * 10


def _fails(progress):
    progress(0.5, "half way")
    raise AstroMLError("the cube has no WCS")


class Events(list):
    """Everything a job told its page, in order."""

    def callbacks(self) -> dict:
        return dict(then=lambda r: self.append(("then", r)), on_error=lambda e: self.append(("error", str(e))),
                    on_progress=lambda f, m: self.append(("progress", round(f, 2), m)),
                    on_cancel=lambda: self.append(("cancelled",)))


def test_unserved_job_reports_each_step_then_its_result():
    events = Events()
    handle = start_job(_counts, 4, name="counting", **events.callbacks())
    assert events == [("progress", 0.25, "step 1 of 4"), ("progress", 0.5, "step 2 of 4"),
                      ("progress", 0.75, "step 3 of 4"), ("progress", 1.0, "step 4 of 4"), ("then", 40)]
    assert handle.ended


def test_unserved_job_error_and_cancel_reach_their_own_callbacks():
    events = Events()
    start_job(_fails, name="failing", **events.callbacks())
    assert events == [("progress", 0.5, "half way"), ("error", "the cube has no WCS")]

    events = []
    panel = JobPanel(SimpleNamespace(error=lambda e: events.append(("banner", str(e)))), cancellable=True)

    def long(progress):
        progress(0.1, "first")
        panel.cancel()                          # the user presses Cancel while it runs
        progress(0.2, "second")                 # the job stops here
        return "done"

    panel.run(long, name="stopping", then=lambda r: events.append(("then", r)), failed="It failed",
              cancelled="Stopped by you")
    assert events == [] and panel.status.object == "Stopped by you"
    assert not panel.progress.visible and not panel.cancel_button.visible and not panel.busy


class InstantDoc:
    """A served session's document that runs next-tick callbacks at once (the test is its event loop)."""

    session_context = SimpleNamespace(destroyed=False)

    @staticmethod
    def add_next_tick_callback(callback) -> None:
        callback()


def _relay_on_own_thread(handle, events) -> None:
    cb = events.callbacks()
    with ThreadPoolExecutor(1) as pool:     # a loop of its own: another test may have left this thread's running
        pool.submit(asyncio.run, _relay(InstantDoc(), handle, cb["then"], cb["on_error"], cb["on_progress"],
                                        cb["on_cancel"])).result()


def test_served_job_relays_progress_from_the_service_then_the_result():
    svc = InferenceService()
    gate = threading.Event()

    def slow(progress):
        progress(0.5, "half way")
        gate.wait(5)
        return "catalogue"

    handle = JobHandle(svc.submit(slow, name="slow"))
    threading.Timer(0.6, gate.set).start()
    events = Events()
    _relay_on_own_thread(handle, events)
    assert ("progress", 0.5, "half way") in events
    assert events[-1] == ("then", "catalogue") and handle.ended


@pytest.mark.parametrize("outcome", ["error", "cancel"])
def test_served_job_error_or_cancel_ends_with_one_callback(outcome):
    svc = InferenceService()
    gate = threading.Event()

    def work(progress):
        gate.wait(5)
        progress(0.9, "late")
        raise AstroMLError("no sources")

    handle = JobHandle(svc.submit(work, name="work"))
    if outcome == "cancel":
        handle.cancel()
    gate.set()
    events = Events()
    _relay_on_own_thread(handle, events)
    assert events[-1] == (("cancelled",) if outcome == "cancel" else ("error", "no sources"))
    assert sum(e[0] in ("then", "error", "cancelled") for e in events) == 1


def test_job_panel_shows_progress_disables_its_trigger_and_sends_errors_to_the_banner():
    import panel as pn

    banner = []
    trigger = pn.widgets.Button(label="Run")
    panel = JobPanel(SimpleNamespace(error=lambda e: banner.append(str(e))), trigger=trigger, css="detect")
    seen = []
    panel.progress.param.watch(lambda e: seen.append((e.new, trigger.disabled)), "value")
    results = []
    panel.run(_counts, 2, name="detecting", then=results.append, failed="Detection failed")
    assert results == [20] and [v for v, _ in seen] == [50, 100] and all(d for _, d in seen)
    assert not trigger.disabled and not panel.progress.visible and not panel.busy
    assert panel.status.object == "step 2 of 2… 100%" and "detect-progress" in panel.progress.css_classes
    panel.run(_fails, name="detecting", then=results.append, failed="Detection failed")
    assert banner == ["the cube has no WCS"] and panel.status.object == "Detection failed" and results == [20]
