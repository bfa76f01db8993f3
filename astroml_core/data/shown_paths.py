"""Paths as users see them: an upload by the name its sender gave, a file under the data root by its path
relative to the root, anything else by its name alone; never the server's folders or its stored upload names.

Messages and exports (catalogue meta, vetting tables) name files through :func:`shown_path`; the app's
banner passes every message through :func:`scrub_text` as a last guard. The app registers each upload's
stored path with its sender's name (:func:`register_upload`) and forgets it when the session ends.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

__all__ = ["shown_path", "scrub_text", "scrub_meta", "register_upload", "forget_upload", "upload_name"]

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{12}_")        # uploads.upload_path's unique prefix
_NAMES: dict[str, str] = {}                           # stored upload path (resolved) → the sender's file name
_LOCK = threading.Lock()


def _key(path: str | os.PathLike) -> str:
    """The registry's key for ``path``: its absolute, resolved form."""
    return str(Path(os.fspath(path)).resolve())


def register_upload(stored: str | os.PathLike, name: str) -> None:
    """Remember that the upload stored at ``stored`` was sent as ``name`` (its last path component)."""
    sent = Path(str(name).replace("\\", "/")).name[:200] or "upload"
    with _LOCK:
        _NAMES[_key(stored)] = sent


def forget_upload(stored: str | os.PathLike) -> None:
    """Drop an upload from the registry (its file was deleted with its session)."""
    with _LOCK:
        _NAMES.pop(_key(stored), None)


def upload_name(path: str | os.PathLike) -> str | None:
    """The name the sender gave the upload stored at ``path``, or None when it is not a registered upload."""
    with _LOCK:
        return _NAMES.get(_key(path))


def _root(root: str | os.PathLike | None) -> Path:
    """The data root to show paths against: ``root``, else the configured one."""
    if root is not None:
        return Path(root).resolve()
    from ..config import settings

    return settings().data_root


def shown_path(path: str | os.PathLike | None, root: str | os.PathLike | None = None) -> str:
    """``path`` as a message or an export names it: a registered upload by its sender's name, an upload
    stored under the upload folder by its name without the unique prefix, a file under the data root by
    its path relative to the root, anything else by its file name alone (never an absolute server path)."""
    if path is None or os.fspath(path) == "":
        return ""
    sent = upload_name(path)
    if sent is not None:
        return sent
    full = Path(os.fspath(path))
    base = _root(root)
    try:
        full = full if full.is_absolute() else base / full
        full = full.resolve()
    except (OSError, RuntimeError):
        return full.name
    uploads = _upload_dir(base)
    if full.is_relative_to(uploads):
        return _UPLOAD_PREFIX.sub("", full.name)
    if full.is_relative_to(base) and full != base:
        return full.relative_to(base).as_posix()
    return full.name


def _upload_dir(root: Path) -> Path:
    """The upload folder (``ASTROML_UPLOAD_DIR``, default ``<root>/uploads``)."""
    value = os.environ.get("ASTROML_UPLOAD_DIR")
    return Path(value).resolve() if value else root / "uploads"


def scrub_text(text: str, root: str | os.PathLike | None = None) -> str:
    """``text`` with every registered upload's stored path and name replaced by its sender's name, other
    stored upload names shown without their unique prefix, and the absolute data root and upload folder
    taken out of any path (``/srv/data/demo/a.fits`` → ``demo/a.fits``): a last guard before a message is
    shown."""
    text = str(text)
    with _LOCK:
        names = sorted(_NAMES.items(), key=lambda kv: -len(kv[0]))
    for stored, sent in names:
        if stored in text:
            text = text.replace(stored, sent)
        stem = Path(stored).name
        if stem in text:
            text = text.replace(stem, sent)
    base = _root(root)
    for folder, said in sorted({(str(_upload_dir(base)), "the upload folder"), (str(base), "the data root")},
                               key=lambda f: -len(f[0])):
        if folder.rstrip("/") == "":
            continue                        # a data root of / leaves every path as it is
        folder = r"(?<![\w./-])" + re.escape(folder.rstrip("/"))     # the whole folder, not a tail of another
        text = re.sub(folder + "/", "", text)
        text = re.sub(folder + r"(?![\w.-])", said, text)
    return re.sub(r"\b[0-9a-f]{12}_(?=[\w.-]+\.(?:fits?|fts|fz|gz|ecsv|csv|xml|vot|reg|crtf)\b)", "", text)


def scrub_meta(meta, root: str | os.PathLike | None = None):
    """A copy of a table's meta (or any nest of dicts, lists and strings) with every string passed through
    :func:`scrub_text`: exported files name files as users know them, never by server paths."""
    if isinstance(meta, str):
        return scrub_text(meta, root)
    if isinstance(meta, dict):
        return type(meta)((k, scrub_meta(v, root)) for k, v in meta.items()) if type(meta) is not dict \
            else {k: scrub_meta(v, root) for k, v in meta.items()}
    if isinstance(meta, (list, tuple)):
        return type(meta)(scrub_meta(v, root) for v in meta)
    return meta
