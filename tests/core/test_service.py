"""The inference service: jobs run one at a time in order, report progress, and can be cancelled."""
from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest

from astroml_core.service.worker import Cancelled, InferenceService


def slow(n: int, *, progress, log: list, gate: threading.Event | None = None) -> int:
    log.append(("start", n))
    if gate is not None:
        gate.wait(5)
    for k in range(5):
        progress((k + 1) / 5, f"step {k}")
        time.sleep(0.01)
    log.append(("end", n))
    return n * 10


def test_jobs_run_one_at_a_time_in_submission_order():
    svc, log = InferenceService(), []
    jobs = [svc.submit(slow, n, log=log) for n in range(3)]
    assert [j.future.result(5) for j in jobs] == [0, 10, 20]
    assert log == [("start", 0), ("end", 0), ("start", 1), ("end", 1), ("start", 2), ("end", 2)]
    assert jobs[2].fraction == 1.0 and jobs[2].message == "step 4"


def test_queue_position_and_cancelling_a_queued_job():
    svc, log, gate = InferenceService(), [], threading.Event()
    first = svc.submit(slow, 1, log=log, gate=gate)
    second = svc.submit(slow, 2, log=log)
    third = svc.submit(slow, 3, log=log)
    time.sleep(0.1)
    assert first.ahead == 0 and third.ahead == 1
    second.cancel()
    gate.set()
    assert first.future.result(5) == 10 and third.future.result(5) == 30
    with pytest.raises(CancelledError):
        second.future.result(1)
    assert ("start", 2) not in log


def test_cancelling_a_running_job_stops_it_at_its_next_progress_report():
    svc, log, gate = InferenceService(), [], threading.Event()
    job = svc.submit(slow, 7, log=log, gate=gate)
    time.sleep(0.1)
    job.cancel()
    gate.set()
    with pytest.raises(Cancelled):
        job.future.result(5)
    assert ("end", 7) not in log


def test_errors_reach_the_owner():
    svc = InferenceService()

    def boom(*, progress):
        raise ValueError("bad cube")

    with pytest.raises(ValueError, match="bad cube"):
        svc.submit(boom).future.result(5)


def test_jobs_with_one_key_run_once_and_share_the_result():
    """A class pressing Detect on one cube: the first job runs, the queued ones and later ones get its result."""
    svc, log, gate = InferenceService(), [], threading.Event()
    first = svc.submit(slow, 1, log=log, gate=gate, key=("detect", "cube.fits", "model"))
    queued = [svc.submit(slow, 1, log=log, key=("detect", "cube.fits", "model")) for _ in range(3)]
    other = svc.submit(slow, 2, log=log, key=("detect", "cube.fits", "baseline"))
    gate.set()
    assert [j.future.result(5) for j in [first, *queued, other]] == [10, 10, 10, 10, 20]
    later = svc.submit(slow, 1, log=log, key=("detect", "cube.fits", "model"))
    assert later.future.done() and later.future.result() == 10      # finished at once, not queued
    assert log == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]


def test_a_failed_keyed_job_is_not_remembered():
    svc = InferenceService()
    calls = []

    def flaky(*, progress):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first try fails")
        return "ok"

    with pytest.raises(ValueError):
        svc.submit(flaky, key="k").future.result(5)
    assert svc.submit(flaky, key="k").future.result(5) == "ok" and len(calls) == 2


def test_file_key_changes_when_the_file_does(tmp_path):
    from astroml_core.service.worker import file_key

    f = tmp_path / "cube.fits"
    f.write_bytes(b"a" * 10)
    before = file_key(f)
    f.write_bytes(b"b" * 11)
    assert file_key(f) != before and file_key(tmp_path / "." / "cube.fits") == file_key(f)
