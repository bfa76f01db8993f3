"""The thread pools that check passwords and look sessions up, off the event loop (made in each process
after the fork), and the store calls they run."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["worker_pool", "in_pool", "check_password", "warm_password_check", "session_owner", "end_session"]

log = logging.getLogger(__name__)

_POOLS: dict[str, tuple[int, ThreadPoolExecutor]] = {}


def _lower_priority() -> None:
    """Run this thread at nice 10 (Linux nices threads one by one): hashing yields the CPU to the event loop."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def worker_pool(kind: str) -> ThreadPoolExecutor:
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


async def in_pool(kind: str, fn, *args):
    """``fn(*args)`` on the process's ``kind`` pool, awaited: the event loop keeps answering meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(worker_pool(kind), fn, *args)


def check_password(name: str, password: str, lifetime_s: float) -> str | None:
    """A new session id if ``password`` is ``name``'s, else None (runs in the password pool)."""
    from astroml_core.errors import VettingError
    from astroml_core.vetting import open_store

    store = open_store()
    try:
        user = store.authenticate(name, password)
    except VettingError:
        return None
    return store.start_session(user.name, lifetime_s=lifetime_s)


def warm_password_check() -> None:
    """Make the store's stand-in hash for unknown names now, so that even the first one costs no extra."""
    from astroml_core.errors import VettingError
    from astroml_core.vetting import open_store

    try:
        open_store().authenticate("", "")
    except VettingError:
        pass


def session_owner(token: str) -> str | None:
    """The name whose live session ``token`` is, else None (runs in the session pool)."""
    from astroml_core.vetting import open_store

    try:
        user = open_store().session_user(token)
    except Exception:  # the database is unreachable: nobody is logged in until it is back
        log.exception("could not check a login session")
        return None
    return user.name if user else None


def end_session(token: str) -> None:
    """Delete the session ``token`` from the store (runs in the session pool)."""
    from astroml_core.vetting import open_store

    open_store().end_session(token)
