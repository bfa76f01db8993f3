"""Uploaded files: size-checked, safely named and written under the upload folder before opening.

An upload arrives whole (:func:`save_upload`) or in pieces (:class:`UploadStream`, for a browser that sends
a file in chunks): either way it is counted against the limit *before* a byte more is kept, written straight
to a private file (mode 600) under the upload folder, and only renamed to its final name once complete, so
a refused or broken upload leaves nothing behind. The sender's file name is text: it is sanitised into
the stored name and never chooses the directory.
"""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from ..errors import TooLargeError

__all__ = ["save_upload", "upload_path", "UploadStream"]

_PART_PREFIX = ".part-"


def upload_path(filename: str, folder: str | os.PathLike) -> Path:
    """A fresh path under ``folder`` for an upload called ``filename``: a unique prefix and the name's
    last component with anything but letters, digits, ``.``, ``_`` and ``-`` replaced (no file is made)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(filename).replace("\\", "/")).name)[-120:] or "upload.fits"
    return Path(folder) / f"{uuid.uuid4().hex[:12]}_{stem}"


def _too_large(filename: str, size: int, max_bytes: int, *, at_least: bool = False) -> TooLargeError:
    shown = str(filename)[:200]
    return TooLargeError(f"{shown} is {'at least ' if at_least else ''}{size / 2**20:.1f} MB, above the upload "
                         f"limit of {max_bytes / 2**20:.0f} MB; put it under the data root and open it by path")


class UploadStream:
    """One upload written piece by piece to a private part-file under ``folder``.

    ``write(data)`` counts first and raises :class:`TooLargeError` (deleting the part-file) as soon as the
    upload would pass ``max_bytes``; ``finish()`` renames the complete file to its final, sanitised name
    and returns that path; ``abort()`` deletes what was written. ``expected_bytes``, when the sender
    announces a size, is checked at once, before anything is written.
    """

    def __init__(self, filename: str, folder: str | os.PathLike, *, max_bytes: int,
                 expected_bytes: int | None = None) -> None:
        self.filename = str(filename)
        self.max_bytes = int(max_bytes)
        self.written = 0
        if expected_bytes is not None and expected_bytes > self.max_bytes:
            raise _too_large(self.filename, expected_bytes, self.max_bytes, at_least=True)
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._part = self.folder / f"{_PART_PREFIX}{uuid.uuid4().hex}"
        fd = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")

    @property
    def closed(self) -> bool:
        return self._file is None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data``; above the limit the upload is aborted and TooLargeError raised."""
        if self._file is None:
            raise ValueError("this upload is finished or aborted")
        size = memoryview(data).nbytes
        if self.written + size > self.max_bytes:
            total = self.written + size
            self.abort()
            raise _too_large(self.filename, total, self.max_bytes, at_least=True)
        self._file.write(data)
        self.written += size

    def finish(self) -> Path:
        """Close the complete upload and give it its final name; returns the path."""
        if self._file is None:
            raise ValueError("this upload is finished or aborted")
        self._file.close()
        self._file = None
        path = upload_path(self.filename, self.folder)
        os.replace(self._part, path)
        return path

    def abort(self) -> None:
        """Delete what was written (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._part.unlink(missing_ok=True)


def save_upload(filename: str, content: bytes, folder: str | os.PathLike, *, max_bytes: int) -> Path:
    """Write an upload to ``folder`` under a unique, sanitised name (mode 600) and return its path.

    Raises TooLargeError above ``max_bytes`` (writing nothing); the original name never chooses the directory.
    """
    if len(content) > max_bytes:
        raise _too_large(filename, len(content), max_bytes)
    stream = UploadStream(filename, folder, max_bytes=max_bytes)
    try:
        stream.write(content)
    except BaseException:
        stream.abort()
        raise
    return stream.finish()
