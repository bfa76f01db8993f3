"""Logging in with Panel's own basic-auth pages, checked against the vetting store's hashed passwords.

Every page stays open to guests (``oauth_optional``); logging in at ``/login`` sets Panel's signed
``user`` cookie, which ``pn.state.user`` reads in every page. Writing (votes, comments, campaigns) is
decided by the store from that name and the user's role, never by the page alone.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from panel.auth import BasicAuthProvider, BasicLoginHandler

__all__ = ["StoreAuthProvider", "cookie_secret", "current_user"]

log = logging.getLogger(__name__)


class StoreLoginHandler(BasicLoginHandler):
    """Panel's login form, validated by the vetting store (scrypt hashes, active users only)."""

    def _validate(self, username, password):
        from astroml_core.errors import VettingError
        from astroml_core.vetting import open_store

        try:
            open_store().authenticate(username, password)
        except VettingError:
            log.info("failed login for %r", username[:64])
            return False
        return True


class StoreAuthProvider(BasicAuthProvider):
    """Panel's basic auth provider with the store's login handler."""

    @property
    def login_handler(self):
        StoreLoginHandler._login_endpoint = self._login_endpoint
        StoreLoginHandler._login_template = self._login_template
        return StoreLoginHandler


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
    """The logged-in user's name in this session, or None for guests."""
    import panel as pn

    user = pn.state.user
    return None if user in (None, "", "guest") else user
