"""A titled list of lines under the status: how a file was read, or the formats we read."""
from __future__ import annotations

from astroml_core.data.shown_paths import scrub_text

from ...components.safe_text import html_text

__all__ = ["notes_html"]


def notes_html(title: str, notes) -> str:
    """``title`` and ``notes`` as an HTML list, escaped and with paths scrubbed: they come from files."""
    items = "".join(f"<li>{html_text(scrub_text(n))}</li>" for n in notes)
    return f"<b>{html_text(title)}</b><ul style='margin:2px 0 0 0;padding-left:18px'>{items}</ul>"
