"""Uploaded files: size-checked, safely named and written under the upload folder before opening."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from ..errors import TooLargeError

__all__ = ["save_upload"]


def save_upload(filename: str, content: bytes, folder: str | os.PathLike, *, max_bytes: int) -> Path:
    """Write an upload to ``folder`` under a unique, sanitised name and return its path.

    Raises TooLargeError above ``max_bytes``; the original name never chooses the directory.
    """
    if len(content) > max_bytes:
        raise TooLargeError(f"{filename} is {len(content) / 2**20:.1f} MB, above the upload limit of "
                            f"{max_bytes / 2**20:.0f} MB; put it under the data root and open it by path")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[-120:] or "upload.fits"
    path = folder / f"{uuid.uuid4().hex[:12]}_{stem}"
    path.write_bytes(content)
    return path
