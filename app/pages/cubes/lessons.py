"""What a lesson step can do on the cube page: ``action(page, value)`` → True once it has been applied."""
from __future__ import annotations

__all__ = ["LESSON_ACTIONS"]


def _lesson_detect(page, method) -> bool:
    """Run ``method``'s detection (model or baseline) once; done when its catalogue is there."""
    d = page.detections
    if d.method != method:
        d.method = method
    if method not in d.catalogues and not d.busy and page.cube is not None:
        d.start()
    return method in d.catalogues


def _lesson_truth(page, on) -> bool:
    """Show (or hide) the truth beside the detections, once there are detections."""
    if page.detections.catalogue is None:
        return False
    page.detections.show_truth = bool(on)
    return True


def _lesson_threshold(page, value) -> bool:
    """Set the reliability threshold."""
    page.detections.threshold = float(value)
    return True


def _lesson_source(page, k) -> bool:
    """Select the ``k``-th shown source in the table (the page goes to it)."""
    rows = page.detections.shown()
    if rows is None or len(rows) <= int(k):
        return False
    page.detections.table.selection = [int(k)]
    return True


LESSON_ACTIONS = {"detect": _lesson_detect, "truth": _lesson_truth, "threshold": _lesson_threshold, "source": _lesson_source}
