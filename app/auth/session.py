"""The secret that signs login cookies, and the logged-in user of a Panel session."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["cookie_secret", "current_user"]


def cookie_secret(data_root: Path) -> str:
    """``ASTROML_COOKIE_SECRET``, else a random secret kept in ``<data_root>/.cookie_secret`` (mode 600),
    so that every process and restart signs and reads the same login cookies."""
    if os.environ.get("ASTROML_COOKIE_SECRET"):
        return os.environ["ASTROML_COOKIE_SECRET"]
    path = data_root / ".cookie_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def current_user() -> str | None:
    """The logged-in user's name in this session, or None for guests (and for ended sessions)."""
    import panel as pn

    user = pn.state.user
    return None if user in (None, "", "guest") else user
