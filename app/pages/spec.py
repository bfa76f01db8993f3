"""One description per page (:class:`PageSpec`), read by the shell (navigation, routes, landing cards) and by
the lessons (which page a lesson runs on, what its steps may do there).

A page registers itself: a package or module under ``app/pages/`` that defines ``SPEC = PageSpec(...)`` is
found by :func:`pages`; code elsewhere (a plug-in, a test) calls :func:`register`. Adding a page edits no
list anywhere else.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = ["PageSpec", "Action", "register", "unregister", "pages", "page_spec"]

Action = Callable[[Any, Any], bool]
"""A lesson step's action: ``action(page, value)`` → True once applied (False: not ready yet, retried)."""


@dataclass(frozen=True)
class PageSpec:
    """What the shell and the lessons know of a page: its URL slug, title, landing blurb, how to build it
    (``factory()``, called once per visit) and the actions a lesson step may run on it."""

    slug: str
    title: str
    blurb: str
    factory: Callable[[], Any]
    actions: Mapping[str, Action] = field(default_factory=dict)
    order: int = 100                 # place in the navigation (lower first)

    def __post_init__(self) -> None:
        if not self.slug or not self.slug.replace("_", "").replace("-", "").isalnum() or self.slug != self.slug.lower():
            raise ValueError(f"page slug {self.slug!r}: lower-case letters, digits, '-' and '_' only")


_REGISTERED: dict[str, PageSpec] = {}
_DISCOVERED: dict[str, PageSpec] | None = None


def register(spec: PageSpec) -> PageSpec:
    """Add a page that does not live under ``app/pages/`` (a later registration of a slug replaces it)."""
    _REGISTERED[spec.slug] = spec
    return spec


def unregister(slug: str) -> None:
    """Remove a page added by :func:`register` (tests clean up with it)."""
    _REGISTERED.pop(slug, None)


def _discover() -> dict[str, PageSpec]:
    """The ``SPEC`` of every module and package directly under ``app/pages`` (imported once)."""
    global _DISCOVERED
    if _DISCOVERED is None:
        from . import __path__ as here, __name__ as package

        found = {}
        for info in pkgutil.iter_modules(here):
            spec = getattr(importlib.import_module(f"{package}.{info.name}"), "SPEC", None)
            if isinstance(spec, PageSpec):
                found[spec.slug] = spec
        _DISCOVERED = found
    return _DISCOVERED


def pages() -> list[PageSpec]:
    """Every page, in navigation order."""
    return sorted({**_discover(), **_REGISTERED}.values(), key=lambda s: (s.order, s.slug))


def page_spec(slug: str) -> PageSpec:
    """The page ``slug``; KeyError names the pages there are."""
    for spec in pages():
        if spec.slug == slug:
            return spec
    raise KeyError(f"no page {slug!r}; pages: {[s.slug for s in pages()]}")
