"""What a lesson step can do on the spectra page: ``action(page, value)`` → True once applied (False: not
ready yet, retried). Only the page's public methods are used."""
from __future__ import annotations

__all__ = ["LESSON_ACTIONS"]


def _select_cell(page, cell) -> bool:
    """Select the confusion-matrix cell ``{truth: ..., predicted: ...}``."""
    return page.select_cell(cell["truth"], cell["predicted"])


def _clear(page, _=None) -> bool:
    """Clear the selection."""
    return page.clear_selection()


LESSON_ACTIONS = {"select_cell": _select_cell, "clear": _clear}
