"""Scripts a page runs once in the browser when its document is ready."""
from __future__ import annotations

from bokeh.models import CustomJS

__all__ = ["run_when_ready"]


def run_when_ready(doc, name: str, code: str) -> None:
    """Run ``code`` in ``doc``'s page when it is ready; once per document and ``name`` (nothing without a
    document, as in headless tests)."""
    if doc is None:
        return
    done = doc.__dict__.setdefault("_astroml_scripts", set())
    if name in done:
        return
    doc.js_on_event("document_ready", CustomJS(code=code))
    done.add(name)
