"""Callbacks for a tab that was closed while its job ran are dropped, not sent to a destroyed document
(Bokeh raised AttributeError '_change_callbacks' from the t-SNE job of a closed spectra tab)."""
from __future__ import annotations

import weakref

from bokeh.document import Document

from app.components.locking import next_tick


class _Session:
    destroyed = False


def _served_document(session: _Session) -> Document:
    """A document as the Bokeh server holds it: a session context and the session's change callback."""
    doc = Document()
    doc._session_context = weakref.ref(session)
    doc.callbacks._change_callbacks[session] = lambda event: None
    return doc


def test_next_tick_reaches_a_live_session():
    session = _Session()
    doc = _served_document(session)
    assert next_tick(doc, lambda: None)
    assert len(doc.session_callbacks) == 1


def test_next_tick_drops_the_callback_of_a_destroyed_session():
    session = _Session()
    doc = _served_document(session)
    doc.destroy(session)
    assert next_tick(doc, lambda: None) is False              # Bokeh itself would raise AttributeError here
    session.destroyed = True
    assert next_tick(_served_document(session), lambda: None) is False
