"""The core's one progress type: ``progress(fraction, message)``, fraction in [0, 1] of the whole task.

Every long task takes one as a ``progress`` keyword (the inference service's ``Job.report`` is one, and raises
``Cancelled`` once the job is cancelled, so work stops at its next report). :func:`span` hands a sub-task the
part of the bar it covers.
"""
from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "quiet", "span"]


class Progress(Protocol):
    """Told how far a task has come, and what it is doing now."""

    def __call__(self, fraction: float, message: str = "") -> None: ...


def quiet(fraction: float, message: str = "") -> None:
    """A progress that tells no one (the default of every task)."""


def span(progress: Progress, start: float, end: float) -> Progress:
    """``progress`` seen by a sub-task that covers ``start``–``end`` of the whole: its 0–1 maps there."""
    def report(fraction: float, message: str = "") -> None:
        progress(start + (end - start) * min(max(float(fraction), 0.0), 1.0), message)
    return report
