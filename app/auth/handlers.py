"""``/login`` and ``/logout`` (CSRF-checked, rate-limited, passwords checked off the event loop), the auth
provider that checks the session on every request, and Panel's ``/components`` route restricted."""
from __future__ import annotations

import asyncio
import hmac
import html
import logging
import math
import os
import secrets
import sys

from panel.auth import BasicAuthProvider
from panel.io.server import ComponentResourceHandler
from tornado.web import HTTPError, RequestHandler
from tornado.websocket import WebSocketHandler

from .forms import LOGIN_FORM, MESSAGES, PlainErrors, cookie_options, page_html, safe_next
from .limits import MAX_NAME_CHARS, MAX_PASSWORD_CHARS, LoginLimits, LoginRateLimiter
from .pools import check_password, end_session, in_pool, session_owner, warm_password_check, worker_pool

__all__ = ["StoreLoginHandler", "StoreLogoutHandler", "StoreAuthProvider", "RestrictedComponentHandler",
           "SESSION_COOKIE", "CSRF_COOKIE"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "astroml_session"
CSRF_COOKIE = "astroml_login_csrf"
_PANEL_COOKIES = ("user", "id_token", SESSION_COOKIE)
_TARPIT_S = 1.0


class StoreLoginHandler(PlainErrors):
    """``/login``: the form (GET) and the rate-limited, CSRF-checked password check (POST)."""

    _login_endpoint = "/login"
    limiter = LoginRateLimiter(LoginLimits.from_env())
    _pending = 0
    _warmed_pid = 0

    def get(self) -> None:
        if type(self)._warmed_pid != os.getpid():
            type(self)._warmed_pid = os.getpid()
            worker_pool("passwords").submit(warm_password_check)
        kept = self.get_secure_cookie(CSRF_COOKIE, max_age_days=1)  # one token for every open login tab
        token = kept.decode("ascii", "replace") if kept else secrets.token_urlsafe(32)
        self.set_secure_cookie(CSRF_COOKIE, token, **cookie_options(self, expires_days=1))
        next_url = self.get_argument("next", None)
        if next_url is not None:
            self.set_cookie("next_url", safe_next(next_url), **cookie_options(self))
        message = MESSAGES.get(self.get_argument("error", ""), "")
        body = LOGIN_FORM.format(
            message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "",
            action=html.escape(self._login_endpoint.rsplit("/", 1)[-1] or "login"), csrf=html.escape(token),
            max_name=MAX_NAME_CHARS, max_password=MAX_PASSWORD_CHARS)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                                   "form-action 'self'; frame-ancestors 'none'")
        self.finish(page_html("Log in", body))

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
            session = await in_pool("passwords", check_password, name, password, config.oauth_expiry * 86400.0)
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
        options = cookie_options(self, expires_days=config.oauth_expiry)
        self.set_secure_cookie("user", name, **options)
        self.set_secure_cookie(SESSION_COOKIE, session, **options)
        log.info("%r logged in from %s", name, self.request.remote_ip)
        self.redirect(safe_next(self.get_cookie("next_url")), status=303)

    def _failed(self, name: str) -> None:
        log.info("failed login for %r from %s", name[:64], self.request.remote_ip)
        self.redirect(f"{self._login_endpoint}?error=invalid", status=303)


class StoreLogoutHandler(PlainErrors):
    """``/logout``: ends the server-side session, so the cookies stop working wherever they are copied."""

    _login_endpoint = "/login"

    async def get(self) -> None:
        from panel.config import config

        token = self.get_secure_cookie(SESSION_COOKIE, max_age_days=config.oauth_expiry)
        if token:
            await in_pool("sessions", end_session, token.decode("utf-8", "replace"))
        for name in (*_PANEL_COOKIES, "access_token", "refresh_token", "oauth_expiry", "next_url"):
            self.clear_cookie(name, path=config.cookie_path)
        self.set_header("Cache-Control", "no-store")
        login = html.escape(self._login_endpoint.rsplit("/", 1)[-1] or "login")
        self.finish(page_html("Logged out", f'<h1>You are logged out</h1><p><a href="{login}">Log in again</a> '
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
                owner = await in_pool("sessions", session_owner, token.decode("utf-8", "replace")) if token else None
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


class RestrictedComponentHandler(ComponentResourceHandler):
    """Panel's ``/components/<module>/<class>/<attr>/<file>`` route, but only for modules of panel, bokeh and
    this app that are already imported: a URL can never make the server import a module."""

    allowed_packages = ("panel", "bokeh", "app")

    def parse_url_path(self, path: str) -> str:
        module = path.split("/", 1)[0]
        if module.split(".", 1)[0] not in self.allowed_packages or module not in sys.modules:
            raise HTTPError(404)
        return super().parse_url_path(path)
