"""A file dropper whose uploads go straight to disk, limited on the server.

Panel's ``FileDropper`` keeps every chunk of a file in memory and joins them at the end, so a browser that
skips the page's size check (or a script speaking the websocket protocol) makes the server buffer the whole
file before anyone looks at its size. :class:`StreamingFileDropper` writes each chunk to a private part-file
as it arrives (:class:`astroml_core.data.uploads.UploadStream`), counts it against the per-file limit and
the session's quota *before* writing, and drops the upload (deleting the part-file) as soon as either is
passed; later chunks of a refused file are ignored. The widget's ``value`` stays empty: finished files are
handed over as paths. Whether guests may upload at all is ``ASTROML_UPLOADS`` (``all`` or ``users``).

The websocket that carries the chunks should refuse any message much bigger than one chunk
(:func:`websocket_max_message_bytes`), so no single message can be large either.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Callable

import panel as pn
import param

from astroml_core.data.uploads import UploadStream
from astroml_core.errors import AstroMLError, InvalidFITSError, NotLoggedInError, TooLargeError

__all__ = ["StreamingFileDropper", "SessionQuota", "session_quota", "uploads_need_login", "upload_quota_bytes",
           "websocket_max_message_bytes", "UPLOAD_CHUNK_BYTES"]

log = logging.getLogger(__name__)

UPLOAD_CHUNK_BYTES = 4 * 2**20      # one websocket message per chunk
MAX_OPEN_UPLOADS = 8                # files one dropper receives at once (FilePond sends two at a time)
SET_GAP_S = 10.0                    # with ``multiple``: a file starting this long after the last one begins a new set
_MARGIN_BYTES = 1 * 2**20           # room for the JSON parts of Bokeh's messages beside a chunk


def websocket_max_message_bytes() -> int:
    """The largest websocket message the server should accept: one upload chunk plus a margin (every
    other message from a browser — widget changes, selections, events — is far smaller)."""
    return UPLOAD_CHUNK_BYTES + _MARGIN_BYTES


def uploads_need_login() -> bool:
    """``ASTROML_UPLOADS``: ``all`` (default; anyone may upload) or ``users`` (logged-in users only).
    Any other value is read as ``users``, the safer of the two."""
    mode = os.environ.get("ASTROML_UPLOADS", "all").strip().lower()
    if mode not in ("all", "users"):
        log.warning("ASTROML_UPLOADS=%r is neither 'all' nor 'users': uploads need a login", mode)
    return mode != "all"


def upload_quota_bytes(max_upload_bytes: int) -> int:
    """Bytes one browser session may upload in all: ``ASTROML_UPLOAD_QUOTA_MB``, default 4× the file limit."""
    value = os.environ.get("ASTROML_UPLOAD_QUOTA_MB")
    return int(float(value) * 2**20) if value else 4 * int(max_upload_bytes)


class SessionQuota:
    """Bytes a session has sent (kept or refused part-way) against its quota; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = int(limit)
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> None:
        """Count ``n`` more bytes, or raise TooLargeError (counting nothing) when they pass the quota."""
        with self._lock:
            if self.used + n > self.limit:
                raise TooLargeError(f"this session has uploaded {self.used / 2**20:.0f} MB of its "
                                    f"{self.limit / 2**20:.0f} MB; open bigger or further files by path "
                                    "under the data root")
            self.used += n


_QUOTAS: "weakref.WeakKeyDictionary[object, SessionQuota]" = weakref.WeakKeyDictionary()
_QUOTAS_LOCK = threading.Lock()


def session_quota(limit: int) -> SessionQuota:
    """The quota of the current browser session (one per Bokeh document, shared by its pages' droppers);
    outside a served session, a fresh one."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return SessionQuota(limit)
    with _QUOTAS_LOCK:
        if doc not in _QUOTAS:
            _QUOTAS[doc] = SessionQuota(limit)
        return _QUOTAS[doc]


class StreamingFileDropper(pn.widgets.FileDropper):
    """``FileDropper`` that streams each file to ``folder`` and calls ``on_files([(path, name), ...])``
    once the files dropped together are complete, or ``on_error(exc)`` for each refused file.

    ``max_bytes`` limits each file, ``quota`` the session; ``allowed()`` (checked on each file's first
    chunk) refuses uploads with :class:`NotLoggedInError`. The browser's own ``max_file_size`` check is
    only a convenience: every limit here holds for a client that skips it.
    """

    chunk_size = param.Integer(default=UPLOAD_CHUNK_BYTES, doc="Bytes per chunk sent over the websocket.")

    def __init__(self, *, folder, max_bytes: int, quota: SessionQuota,
                 on_files: Callable[[list], None], on_error: Callable[[BaseException], None],
                 allowed: Callable[[], bool] = lambda: True, **params) -> None:
        params.setdefault("max_file_size", f"{max(1, int(max_bytes // 2**20))}MB")
        super().__init__(**params)
        self._folder, self._max_bytes, self._quota = folder, int(max_bytes), quota
        self._on_files, self._on_error, self._allowed = on_files, on_error, allowed
        self._streams: dict[str, tuple[UploadStream, int, int]] = {}    # name → (stream, next chunk, chunks)
        self._refused: set[str] = set()
        self._set: list = []            # files of the current drop (``multiple``), all handed over each time
        self._handed, self._last_file_at = 0, float("-inf")
        self._lock = threading.Lock()
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda ctx: self.abort_all())

    # --- Panel's event hook: one call per chunk (or per removal from the list) ---------------------------
    def _process_event(self, event) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        name = str(data.get("name", ""))[:1000]
        if event.event_name != "upload_event":
            return                      # a file removed from the list: it stays open until the session ends
        try:
            finished = self._receive(name, data)
        except AstroMLError as exc:
            self._refuse(name, exc)
            return
        except Exception as exc:        # a malformed message: refuse the file, keep the session
            log.warning("upload %r refused: %s", name[:100], exc)
            self._refuse(name, InvalidFITSError(f"the upload of {name[:200]} broke off; try again"))
            return
        if finished:
            self._maybe_hand_over()

    def _receive(self, name: str, data: dict) -> bool:
        """Count and write one chunk; True when it completed its file."""
        chunk, total = int(data["chunk"]), int(data["total_chunks"])
        payload = data.get("data")
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogateescape")
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise InvalidFITSError(f"the upload of {name[:200]} carried no file data")
        with self._lock:
            if chunk == 1:
                self._refused.discard(name)
                old = self._streams.pop(name, None)
                if old is not None:
                    old[0].abort()
                if not self._allowed():
                    raise NotLoggedInError("log in to upload files; guests can open the demo data and files "
                                           "under the data root by path")
                if len(self._streams) >= MAX_OPEN_UPLOADS:
                    raise TooLargeError(f"at most {MAX_OPEN_UPLOADS} files can be uploaded at once")
                if self.multiple and not self._streams and time.monotonic() - self._last_file_at > SET_GAP_S:
                    self._set, self._handed = [], 0
                # the browser cuts a file into ceil((size + 1) / chunk_size) chunks: so many announce its size
                announced = (total - 1) * self.chunk_size if total > 1 else None
                stream = UploadStream(name, self._folder, max_bytes=self._max_bytes, expected_bytes=announced)
                self._streams[name] = (stream, 1, total)
            elif name in self._refused:
                return False            # the rest of a refused file: dropped unread
            elif name not in self._streams:
                raise InvalidFITSError(f"part {chunk} of {name[:200]} arrived without its start; try again")
            stream, expected, total0 = self._streams[name]
            if chunk != expected or total != total0 or chunk > total:
                raise InvalidFITSError(f"the upload of {name[:200]} arrived out of order; try again")
            size = memoryview(payload).nbytes
            if stream.written + size > self._max_bytes:
                stream.write(payload)   # raises TooLargeError and deletes the part-file
            self._quota.take(size)
            stream.write(payload)
            if chunk < total:
                self._streams[name] = (stream, chunk + 1, total)
                return False
            del self._streams[name]
            done = (stream.finish(), name)
            self._last_file_at = time.monotonic()
            self._set = [*self._set, done] if self.multiple else [done]
            self._handed = 0 if not self.multiple else self._handed
            return True

    def _refuse(self, name: str, exc: BaseException) -> None:
        with self._lock:
            entry = self._streams.pop(name, None)
            if entry is not None:
                entry[0].abort()
            self._refused.add(name)
        log.info("upload %r refused: %s", name[:100], exc)
        self._on_error(exc)

    def _maybe_hand_over(self) -> None:
        """Hand over the finished files once none is still arriving. With ``multiple``, the files dropped
        together are one set: FilePond sends two at a time and starts the next only after one finishes, so
        wait a moment for it; a file that comes later still (a slow browser) joins the set, which is then
        handed over again, whole."""
        doc = pn.state.curdoc
        if not self.multiple or doc is None or doc.session_context is None:
            self._hand_over()
            return
        doc.add_timeout_callback(self._hand_over, 500)

    def _hand_over(self) -> None:
        with self._lock:
            if (self.multiple and self._streams) or len(self._set) == self._handed:
                return
            files, self._handed = list(self._set), len(self._set)
        self._on_files(files)

    def abort_all(self) -> None:
        """Delete every part-file still arriving, and finished files never handed over (the session ended)."""
        with self._lock:
            streams, self._streams = list(self._streams.values()), {}
            kept, self._set = self._set[self._handed:], []
        for stream, _, _ in streams:
            stream.abort()
        for path, _ in kept:
            path.unlink(missing_ok=True)
