"""What a lesson step can do on the deblending page: ``action(page, value)`` → True once it has been applied."""
from __future__ import annotations

__all__ = ["LESSON_ACTIONS"]


def _lesson_deblend(page, _=None) -> bool:
    """Deblend the open image once; done when the results are there."""
    if not page.results and not page.busy and page.image is not None:
        page.run()
    return bool(page.results)


def _lesson_select_galaxy(page, k) -> bool:
    """Select the ``k``-th galaxy of the shown method's table."""
    if page.method not in page.results or page.table.value is None or len(page.table.value) <= int(k):
        return False
    page.table.selection = [int(k)]
    return True


LESSON_ACTIONS = {"deblend": _lesson_deblend, "select": _lesson_select_galaxy}
