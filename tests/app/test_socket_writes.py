"""Panel's queued socket writes, replayed with a fake connection in the order that lost a batch on the cube
page: a writer finishes its own writes just as a second batch is queued. With Panel's writer alone the second
batch stays queued (nothing reaches the browser); with ours it is sent."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from bokeh.document import Document
from panel.io import document as panel_document

from app.components.socket_writes import _panel_dispatch, drain_queued_writes


@dataclass
class _Message:
    name: str
    header_json: str = "{}"
    metadata_json: str = "{}"
    content_json: str = "{}"
    _buffers: list = field(default_factory=list)


class _Protocol:
    def create(self, kind, events):
        return _Message("+".join(events))


class _Socket:
    """Records what is sent; each send's future is resolved by the test."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.pending: list[asyncio.Future] = []

    def send(self, text_data=None, binary_data=None):
        self.sent.append(text_data)
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future

    def finish_writes(self) -> None:
        for future in self.pending:
            if not future.done():
                future.set_result(None)


class _Connection:
    def __init__(self) -> None:
        self._socket = _Socket()
        self.protocol = _Protocol()


async def _replay() -> tuple[int, int]:
    """Queue batch 1, let its writer start writing; finish those writes and queue batch 2 in one step (the
    first writer resumes before the second starts); return (messages sent, batches left in Panel's queue)."""
    doc, conn = Document(), _Connection()
    panel_document.schedule_write_events(doc, [conn], ["first"])
    for _ in range(3):
        await asyncio.sleep(0)
    assert len(conn._socket.sent) == 3                      # header, metadata, content of batch 1
    conn._socket.finish_writes()
    panel_document.schedule_write_events(doc, [conn], ["second"])
    for _ in range(20):
        await asyncio.sleep(0)
        conn._socket.finish_writes()
    left = sum(len(m) for m in panel_document._WRITE_MSGS.get(doc, {}).values())
    return len(conn._socket.sent) // 3, left


@pytest.mark.parametrize("writer, sent, left", [(_panel_dispatch, 1, 1), (drain_queued_writes, 2, 0)],
                         ids=["panel-alone", "with-the-fix"])
def test_a_batch_queued_while_a_writer_finishes_is_sent(monkeypatch, writer, sent, left):
    """Panel alone strands the second batch (if this case fails, Panel has fixed the race and
    app.components.socket_writes can go); with the fix both batches are sent and nothing is left queued."""
    monkeypatch.setattr(panel_document, "_dispatch_msgs", writer)
    with ThreadPoolExecutor(1) as thread:        # a loop of its own: the browser tests' playwright runs one here
        assert thread.submit(asyncio.run, _replay()).result() == (sent, left)
