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

from .handlers import (CSRF_COOKIE, SESSION_COOKIE, RestrictedComponentHandler, StoreAuthProvider,
                       StoreLoginHandler, StoreLogoutHandler)
from .limits import LoginLimits, LoginRateLimiter
from .session import cookie_secret, current_user

__all__ = ["StoreAuthProvider", "StoreLoginHandler", "StoreLogoutHandler", "LoginLimits", "LoginRateLimiter",
           "RestrictedComponentHandler", "SESSION_COOKIE", "CSRF_COOKIE", "cookie_secret", "current_user"]
