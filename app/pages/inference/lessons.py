"""What a lesson step can do on the inference page: ``action(page, value)`` → True once it has been applied."""
from __future__ import annotations

__all__ = ["LESSON_ACTIONS"]


def _lesson_open_lightcone(page, name) -> bool:
    """Open the demo lightcone ``name``; done when its posterior is there."""
    if page.data is None or page.data.name != name:
        if page.source.demo_select.value != name:
            page.source.demo_select.value = name
            page.source.open_demo()
        return False
    return page.samples is not None


def _lesson_galaxies(page, ids) -> bool:
    """Choose the galaxies (by id) whose combined Ω_m posterior is shown."""
    page.galaxies = [int(i) for i in ids]
    return True


LESSON_ACTIONS = {"lightcone": _lesson_open_lightcone, "galaxies": _lesson_galaxies}
