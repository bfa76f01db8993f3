"""No model change left unsent: a fix for a race in Panel's (≤ 1.9.4) queued socket writes.

When a change is made while the socket is busy, Panel queues the message (``_WRITE_MSGS``) and starts a
writer task (``_dispatch_msgs``). A writer that is still awaiting its own writes when a second batch is
queued clears the "writer running" flag (``_WRITE_BLOCK``) on finishing, so the second batch's writer sees
no flag and returns: the batch sits in the queue until some later change of that page happens to start a
writer. Seen on the cube page under load: a region's statistics table (5 messages) never reached the
browser although the server's models held it. Panel's newer sources drain such batches in the running
writer; here, whenever a writer returns with messages still queued and no writer running, one is started.
"""
from __future__ import annotations

import logging

from panel.io import document as _document

__all__ = ["install", "drain_queued_writes"]

log = logging.getLogger("astroml.socket_writes")

_panel_dispatch = _document._dispatch_msgs


async def drain_queued_writes(doc) -> None:
    """Panel's writer, then another writer for anything queued meanwhile that no writer will send."""
    await _panel_dispatch(doc)
    if _document._WRITE_MSGS.get(doc) and doc not in _document._WRITE_BLOCK:
        _document._WRITE_BLOCK[doc] = True
        _document._dispatch_write_task(doc, drain_queued_writes, doc)


def install() -> bool:
    """Put the draining writer in Panel's place (Panel looks the writer up by name at each use); False, and
    Panel left as it is, where its internals are not the ones this fix was written for."""
    needed = ("_dispatch_msgs", "_dispatch_write_task", "_WRITE_MSGS", "_WRITE_BLOCK")
    if not all(hasattr(_document, name) for name in needed):
        log.warning("Panel's socket writer has changed; queued-write fix not installed")
        return False
    _document._dispatch_msgs = drain_queued_writes
    return True
