"""Failed logins counted in memory per user name and per address, with exponential back-off."""
from __future__ import annotations

import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable

__all__ = ["LoginLimits", "LoginRateLimiter", "MAX_NAME_CHARS", "MAX_PASSWORD_CHARS"]

MAX_NAME_CHARS, MAX_PASSWORD_CHARS = 64, 1024


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
