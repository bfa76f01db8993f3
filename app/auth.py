"""Logging in: a self-contained login form checked against the vetting store, hardened for a shared server.

Every page stays open to guests (``oauth_optional``). ``/login`` (:class:`StoreLoginHandler`):

- carries a CSRF token: a random value in the form and in a signed cookie (double submit); a POST without
  the matching pair is refused with 403;
- is rate-limited per user name and per address (:class:`LoginRateLimiter`: a few free failures, then
  exponential back-off; answered 429 with ``Retry-After`` before any password work is spent, after
  holding the request for up to a second so that a flood cannot keep the event loop busy), and at most
  ``max_pending`` checks wait at once;
- checks passwords (scrypt, ~90 ms) in a small thread pool at low CPU priority, never on the event loop,
  and spends the same hash work on unknown names as on known ones (:meth:`VettingStore.authenticate`);
- on success starts a server-side session (:meth:`VettingStore.start_session`) and sets two signed,
  HttpOnly, SameSite=Lax cookies: ``user`` (Panel's, which ``pn.state.user`` reads) and
  ``astroml_session`` (the session id); both are ``Secure`` when the request came over https.

Every authenticated request (page, websocket) looks the session up in the database
(:meth:`StoreAuthProvider.get_user_async`, off the event loop too): ``/logout`` deletes it, so a cookie
copied before logging out is treated as a guest's afterwards, on every server process sharing the
database. Writing (votes, comments, campaigns) is still decided by the store from that name and the
user's role, never by the page alone.

The rate limiter lives in each process's memory (bounded in size): with ``--num-procs N`` an attacker
gets at most N times the free attempts before the back-off, and none of it survives a restart.
"""
from __future__ import annotations

import asyncio
import hmac
import html
import logging
import math
import os
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from panel.auth import BasicAuthProvider
from panel.io.server import ComponentResourceHandler
from tornado.web import HTTPError, RequestHandler
from tornado.websocket import WebSocketHandler

__all__ = ["StoreAuthProvider", "StoreLoginHandler", "StoreLogoutHandler", "LoginLimits", "LoginRateLimiter",
           "RestrictedComponentHandler", "SESSION_COOKIE", "CSRF_COOKIE", "cookie_secret", "current_user"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "astroml_session"
CSRF_COOKIE = "astroml_login_csrf"
MAX_NAME_CHARS, MAX_PASSWORD_CHARS = 64, 1024
_PANEL_COOKIES = ("user", "id_token", SESSION_COOKIE)
_TARPIT_S = 1.0


# -- rate limiting -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginLimits:
    """How many failed logins are free, and the back-off after them.

    ``per_user`` failures for one user name (known or not) and ``per_address`` from one client address
    within ``window_s`` seconds are free; each further failure closes that key for
    ``base_delay_s · 2**(failures − limit)`` seconds, at most ``max_delay_s``. ``max_keys`` bounds the
    memory (least recently failed keys are forgotten first); ``max_pending`` bounds the password checks
    waiting for the pool at once (more are answered "busy").
    """

    per_user: int = 5
    per_address: int = 30
    window_s: float = 900.0
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0
    max_keys: int = 10_000
    max_pending: int = 32

    @classmethod
    def from_env(cls) -> "LoginLimits":
        """The defaults, overridden by ``ASTROML_LOGIN_USER_FAILURES`` and ``ASTROML_LOGIN_ADDRESS_FAILURES``."""
        return cls(per_user=int(os.environ.get("ASTROML_LOGIN_USER_FAILURES", cls.per_user)),
                   per_address=int(os.environ.get("ASTROML_LOGIN_ADDRESS_FAILURES", cls.per_address)))


class LoginRateLimiter:
    """Failed logins per key (``("user", name)``, ``("addr", ip)``) in memory, with exponential back-off.

    An attempt is counted as a failure when it *starts* (:meth:`reserve`), so that many concurrent
    attempts cannot all slip past the limit before the first has failed; a success takes it back
    (:meth:`succeeded`). Only the event loop's thread calls it.
    """

    def __init__(self, limits: LoginLimits | None = None, *, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or LoginLimits()
        self._clock = clock
        self._keys: OrderedDict[tuple[str, str], tuple[deque, list]] = OrderedDict()

    def keys(self, name: str, address: str | None) -> list[tuple[str, str]]:
        """The keys an attempt for ``name`` from ``address`` counts against."""
        return [("user", name.strip().casefold()[:MAX_NAME_CHARS]), ("addr", address or "?")]

    def _limit(self, key: tuple[str, str]) -> int:
        return self.limits.per_user if key[0] == "user" else self.limits.per_address

    def _entry(self, key: tuple[str, str], now: float) -> tuple[deque, list]:
        entry = self._keys.get(key)
        if entry is None:
            entry = self._keys[key] = (deque(), [0.0])
            while len(self._keys) > self.limits.max_keys:
                self._keys.popitem(last=False)
        failures = entry[0]
        while failures and failures[0] < now - self.limits.window_s:
            failures.popleft()
        return entry

    def retry_after(self, keys: list[tuple[str, str]]) -> float:
        """Seconds until an attempt on every one of ``keys`` is allowed again (0: now)."""
        now = self._clock()
        return max([entry[1][0] - now for key in keys if (entry := self._keys.get(key))] + [0.0])

    def reserve(self, keys: list[tuple[str, str]]) -> float:
        """Start an attempt: 0 if allowed (it now counts as a failure), else the seconds to wait."""
        wait = self.retry_after(keys)
        if wait > 0:
            return wait
        now = self._clock()
        for key in keys:
            failures, blocked = self._entry(key, now)
            failures.append(now)
            self._keys.move_to_end(key)
            excess = len(failures) - self._limit(key)
            if excess >= 0:
                blocked[0] = now + min(self.limits.base_delay_s * 2.0 ** excess, self.limits.max_delay_s)
        return 0.0

    def release(self, keys: list[tuple[str, str]]) -> None:
        """Take back an attempt that was never judged (the server was busy)."""
        for key in keys:
            entry = self._keys.get(key)
            if entry is not None and entry[0]:
                entry[0].pop()
                if len(entry[0]) < self._limit(key):
                    entry[1][0] = 0.0

    def succeeded(self, keys: list[tuple[str, str]]) -> None:
        """The attempt was right: the user name starts afresh; the address gets its attempt back."""
        self.release(keys)
        for key in keys:
            if key[0] == "user":
                self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)


# -- worker pools (made in each process after the fork) ------------------------------------------------
_POOLS: dict[str, tuple[int, ThreadPoolExecutor]] = {}


def _lower_priority() -> None:
    """Run this thread at nice 10 (Linux nices threads one by one): hashing yields the CPU to the event loop."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def _pool(kind: str) -> ThreadPoolExecutor:
    """The process's pool for ``kind``: "passwords" (scrypt, at low CPU priority: one thread per two
    cores) or "sessions" (database look-ups)."""
    pid = os.getpid()
    made = _POOLS.get(kind)
    if made is None or made[0] != pid:
        if kind == "passwords":
            pool = ThreadPoolExecutor(max(1, min(2, (os.cpu_count() or 2) // 2)),
                                      thread_name_prefix="astroml-passwords", initializer=_lower_priority)
        else:
            pool = ThreadPoolExecutor(4, thread_name_prefix=f"astroml-{kind}")
        made = _POOLS[kind] = (pid, pool)
    return made[1]


async def _in_pool(kind: str, fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_pool(kind), fn, *args)


def _check_password(name: str, password: str, lifetime_s: float) -> str | None:
    """A new session id if ``password`` is ``name``'s, else None (runs in the password pool)."""
    from astroml_core.errors import VettingError
    from astroml_core.vetting import open_store

    store = open_store()
    try:
        user = store.authenticate(name, password)
    except VettingError:
        return None
    return store.start_session(user.name, lifetime_s=lifetime_s)


def _warm_password_check() -> None:
    """Make the store's stand-in hash for unknown names now, so that even the first one costs no extra."""
    from astroml_core.errors import VettingError
    from astroml_core.vetting import open_store

    try:
        open_store().authenticate("", "")
    except VettingError:
        pass


def _session_owner(token: str) -> str | None:
    from astroml_core.vetting import open_store

    try:
        user = open_store().session_user(token)
    except Exception:  # the database is unreachable: nobody is logged in until it is back
        log.exception("could not check a login session")
        return None
    return user.name if user else None


def _end_session(token: str) -> None:
    from astroml_core.vetting import open_store

    open_store().end_session(token)


# -- pages ---------------------------------------------------------------------------------------------
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · AstroML Explorer</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f6f8; color: #1d2733; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 2px 12px rgba(0, 0, 0, .12); }}
h1 {{ font-size: 1.3rem; margin: 0 0 1rem; }}
label {{ display: block; margin: .8rem 0 .2rem; font-size: .9rem; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem;
       border: 1px solid #b8c2cc; border-radius: 4px; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0; border-radius: 4px;
         background: #1f5fa8; color: #fff; cursor: pointer; }}
.error {{ color: #a4161a; background: #fde8e8; padding: .5rem; border-radius: 4px; font-size: .9rem; }}
a {{ color: #1f5fa8; }}
</style></head>
<body><main>{body}</main></body></html>
"""

_LOGIN_FORM = """<h1>Log in to AstroML Explorer</h1>
{message}
<form action="{action}" method="post" autocomplete="on">
<input type="hidden" name="_csrf" value="{csrf}">
<label for="username">User name</label>
<input type="text" id="username" name="username" maxlength="{max_name}" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" maxlength="{max_password}" required>
<button type="submit">Log in</button>
</form>
<p><a href="./">Continue as a guest</a></p>"""

_MESSAGES = {"invalid": "Invalid username or password!"}


def _page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def _safe_next(url: str | None) -> str:
    """``url`` if it is a path on this server, else "/" (never another site: no scheme, no ``//``)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or any(c < " " for c in url):
        return "/"
    return url


def _cookie_options(handler: RequestHandler, **extra) -> dict:
    """HttpOnly, SameSite=Lax, on the configured path, and Secure when the request came over https
    (behind a proxy only when ``--behind-proxy`` trusts its X-Forwarded-Proto)."""
    from panel.config import config

    return dict(httponly=True, samesite="Lax", path=config.cookie_path, secure=handler.request.protocol == "https",
                **extra)


class _PlainErrors(RequestHandler):
    """Errors as one line of plain text (no template, nothing echoed)."""

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = exc.log_message if isinstance(exc, HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{message}\n")

    def _refuse(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.set_status(status)
        if retry_after is not None:
            self.set_header("Retry-After", str(max(1, math.ceil(retry_after))))
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(f"{message}\n")


class StoreLoginHandler(_PlainErrors):
    """``/login``: the form (GET) and the rate-limited, CSRF-checked password check (POST)."""

    _login_endpoint = "/login"
    limiter = LoginRateLimiter(LoginLimits.from_env())
    _pending = 0
    _warmed_pid = 0

    def get(self) -> None:
        if type(self)._warmed_pid != os.getpid():
            type(self)._warmed_pid = os.getpid()
            _pool("passwords").submit(_warm_password_check)
        kept = self.get_secure_cookie(CSRF_COOKIE, max_age_days=1)  # one token for every open login tab
        token = kept.decode("ascii", "replace") if kept else secrets.token_urlsafe(32)
        self.set_secure_cookie(CSRF_COOKIE, token, **_cookie_options(self, expires_days=1))
        next_url = self.get_argument("next", None)
        if next_url is not None:
            self.set_cookie("next_url", _safe_next(next_url), **_cookie_options(self))
        message = _MESSAGES.get(self.get_argument("error", ""), "")
        body = _LOGIN_FORM.format(
            message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "",
            action=html.escape(self._login_endpoint.rsplit("/", 1)[-1] or "login"), csrf=html.escape(token),
            max_name=MAX_NAME_CHARS, max_password=MAX_PASSWORD_CHARS)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                                   "form-action 'self'; frame-ancestors 'none'")
        self.finish(_page("Log in", body))

    async def post(self) -> None:
        from panel.config import config

        sent = self.get_body_argument("_csrf", "")
        expected = self.get_secure_cookie(CSRF_COOKIE, max_age_days=1)
        if not sent or expected is None or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected):
            return self._refuse(403, "This login form has expired or was sent from another site: "
                                     "open /login again and log in from there.")
        name = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        keys = self.limiter.keys(name, self.request.remote_ip)
        wait = self.limiter.reserve(keys)
        if wait > 0:
            # held for up to a second (a sleep costs no CPU): a client that waits for each answer sends
            # at most one attempt per second per connection instead of keeping the event loop busy
            await asyncio.sleep(min(wait, _TARPIT_S))
            wait = self.limiter.retry_after(keys)
            return self._refuse(429, f"Too many failed logins for this user or from this address: "
                                     f"try again in {max(1, math.ceil(wait))} s.", wait)
        if self.limiter.retry_after(keys) > 0:
            log.warning("logins for %r or from %s closed for %.0f s after repeated failures", name[:64],
                        self.request.remote_ip, self.limiter.retry_after(keys))
        if len(name) > MAX_NAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
            return self._failed(name)
        cls = type(self)
        if cls._pending >= self.limiter.limits.max_pending:
            self.limiter.release(keys)  # not the sender's fault
            return self._refuse(503, "The server is checking many logins at once: try again in a few seconds.", 5)
        cls._pending += 1
        try:
            session = await _in_pool("passwords", _check_password, name, password, config.oauth_expiry * 86400.0)
        except Exception:  # the database failed (busy through every retry, unreachable): nobody's fault
            log.exception("login for %r could not be completed", name[:64])
            self.limiter.release(keys)
            return self._refuse(503, "The server could not complete the login just now: try again in a few seconds.", 5)
        finally:
            cls._pending -= 1
        if session is None:
            return self._failed(name)
        self.limiter.succeeded(keys)
        self.clear_cookie("is_guest", path=config.cookie_path)
        self.clear_cookie(CSRF_COOKIE, path=config.cookie_path)
        options = _cookie_options(self, expires_days=config.oauth_expiry)
        self.set_secure_cookie("user", name, **options)
        self.set_secure_cookie(SESSION_COOKIE, session, **options)
        log.info("%r logged in from %s", name, self.request.remote_ip)
        self.redirect(_safe_next(self.get_cookie("next_url")), status=303)

    def _failed(self, name: str) -> None:
        log.info("failed login for %r from %s", name[:64], self.request.remote_ip)
        self.redirect(f"{self._login_endpoint}?error=invalid", status=303)


class StoreLogoutHandler(_PlainErrors):
    """``/logout``: ends the server-side session, so the cookies stop working wherever they are copied."""

    _login_endpoint = "/login"

    async def get(self) -> None:
        from panel.config import config

        token = self.get_secure_cookie(SESSION_COOKIE, max_age_days=config.oauth_expiry)
        if token:
            await _in_pool("sessions", _end_session, token.decode("utf-8", "replace"))
        for name in (*_PANEL_COOKIES, "access_token", "refresh_token", "oauth_expiry", "next_url"):
            self.clear_cookie(name, path=config.cookie_path)
        self.set_header("Cache-Control", "no-store")
        login = html.escape(self._login_endpoint.rsplit("/", 1)[-1] or "login")
        self.finish(_page("Logged out", f'<h1>You are logged out</h1><p><a href="{login}">Log in again</a> '
                                        f'or <a href="./">continue as a guest</a>.</p>'))


class StoreAuthProvider(BasicAuthProvider):
    """Panel's basic auth provider with the store's login and logout pages and a session check on every
    authenticated request (a cookie whose session has ended counts as a guest's)."""

    @property
    def login_handler(self):
        StoreLoginHandler._login_endpoint = self._login_endpoint
        return StoreLoginHandler

    @property
    def logout_handler(self):
        StoreLogoutHandler._login_endpoint = self._login_endpoint
        return StoreLogoutHandler

    @property
    def get_user(self):
        return None  # Bokeh takes one of get_user and get_user_async

    @property
    def get_user_async(self):
        panel_get_user = BasicAuthProvider.get_user.fget(self)

        async def get_user(handler):
            from panel.config import config

            name = handler.get_secure_cookie("user", max_age_days=config.oauth_expiry)
            if name is not None:
                token = handler.get_secure_cookie(SESSION_COOKIE, max_age_days=config.oauth_expiry)
                owner = await _in_pool("sessions", _session_owner, token.decode("utf-8", "replace")) if token else None
                if owner is None or owner != name.decode("utf-8", "replace"):
                    _forget_login(handler)
            return panel_get_user(handler)

        return get_user


def _forget_login(handler: RequestHandler) -> None:
    """Treat this request as a guest's (``pn.state.user`` reads the cookies kept here) and, for a page,
    tell the browser to drop the dead cookies."""
    from panel.config import config

    for name in _PANEL_COOKIES:
        handler.request.cookies.pop(name, None)
        if not isinstance(handler, WebSocketHandler):
            handler.clear_cookie(name, path=config.cookie_path)


# -- Panel's /components route -------------------------------------------------------------------------
class RestrictedComponentHandler(ComponentResourceHandler):
    """Panel's ``/components/<module>/<class>/<attr>/<file>`` route, but only for modules of panel, bokeh and
    this app that are already imported: a URL can never make the server import a module."""

    allowed_packages = ("panel", "bokeh", "app")

    def parse_url_path(self, path: str) -> str:
        module = path.split("/", 1)[0]
        if module.split(".", 1)[0] not in self.allowed_packages or module not in sys.modules:
            raise HTTPError(404)
        return super().parse_url_path(path)


# -- secrets and the session's user --------------------------------------------------------------------
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
