"""A page's state in its URL: restored from the query string when a session opens, written back as it
changes, and a "Copy link" button that puts the URL on the clipboard (a lecturer pastes it in chat)."""
from __future__ import annotations

import json
import logging
from typing import Callable

import panel as pn
import param

from .page_scripts import run_when_ready

__all__ = ["url_query", "sync_url", "copy_link_button", "link_path", "open_linked_or_demo"]

log = logging.getLogger(__name__)


def url_query() -> dict:
    """The session's query parameters (JSON-decoded by Panel); empty outside a served session."""
    loc = pn.state.location
    return dict(loc.query_params) if loc is not None else {}


def sync_url(obj: param.Parameterized, mapping: dict[str, str], on_error: Callable[[dict], None] | None = None) -> None:
    """Apply the URL's values to ``obj``'s parameters (``mapping``: parameter → query name), then keep the
    URL updated whenever they change. Values that cannot be applied go to ``on_error``."""
    loc = pn.state.location
    if loc is None:
        return
    report = on_error or (lambda values: log.warning("URL state not applied: %s", values))
    _replace_not_push(pn.state.curdoc)
    loc.sync(obj, mapping, on_error=lambda values: _apply_each(obj, values, report))
    # the browser sets the URL model from its address bar when the page loads, which drops what was
    # written while the page was being built: write the whole state again once it has loaded
    pn.state.onload(lambda: loc.update_query(**{name: _serialised(obj, p) for p, name in mapping.items()
                                                if getattr(obj, p) is not None}))


# Panel pushes a browser-history entry for every query change: after playing a cube, Back would step back
# through every channel. A query change on the same page replaces the entry instead; other pages still push.
# The address bar follows once the view has been still for URL_SETTLE_MS: a same-document navigation costs
# Chromium ~15 ms of the main thread, which a channel step (or a frame of the player) would wait behind.
# "Copy link" reads the session's Location model, never late; leaving or hiding the page writes at once.
URL_SETTLE_MS = 250
_REPLACE_JS = """
if (!window.__astromlReplaceState) {
  window.__astromlReplaceState = true;
  const push = window.history.pushState.bind(window.history);
  const replace = window.history.replaceState.bind(window.history);
  let pending = null, timer = null;
  const flush = () => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (pending !== null) { const [s, t, u] = pending; pending = null; replace(s, t, u); }
  };
  window.history.pushState = (state, title, url) => {
    const next = new URL(url, window.location.href);
    if (next.pathname === window.location.pathname) {
      pending = [state, title, url];
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(flush, %d);
    } else {
      flush();
      push(state, title, url);
    }
  };
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", flush);
}""" % URL_SETTLE_MS


def _replace_not_push(doc) -> None:
    """Make the page's URL updates replace its history entry."""
    run_when_ready(doc, "replace-state", _REPLACE_JS)


def _apply_each(obj: param.Parameterized, values: dict, report: Callable[[dict], None]) -> None:
    """Panel applies a link's values all at once; when that fails, apply them one by one (reading the
    'True'/'False' that Panel's own re-encoding of the query writes for booleans) and report the rest."""
    failed = {}
    for name, value in values.items():
        if isinstance(obj.param[name], param.Boolean) and isinstance(value, str):
            value = value.strip().lower() == "true"
        try:
            obj.param.update({name: value})
        except Exception:
            failed[name] = value
    if failed:
        report(failed)


def _serialised(obj: param.Parameterized, name: str) -> str:
    """A parameter's value as Panel writes it into a query string."""
    value = getattr(obj, name)
    try:
        value = obj.param[name].serialize(value)
    except Exception:
        pass
    return value if isinstance(value, str) else json.dumps(value)


def copy_link_button() -> pn.widgets.Button:
    """A button that copies the page's current URL (its state included) to the clipboard."""
    button = pn.widgets.Button(label="Copy link", width=110, css_classes=["copy-link"],
                               description="Copy a link that reopens this view")
    # the session's Location model holds the newest query; the address bar may lag behind it (Panel
    # pushes URL changes only when the document is idle)
    button.js_on_click(args={"btn": button}, code="""
        let url = window.location.href;
        for (const m of btn.document._all_models.values())
          if (m.type && m.type.endsWith('Location')) { url = window.location.origin + m.pathname + m.search + m.hash; break; }
        navigator.clipboard.writeText(url).then(
          () => { btn.label = 'Link copied'; setTimeout(() => { btn.label = 'Copy link'; }, 2000); },
          () => { window.prompt('Copy this link', url); });""")
    return button


def link_path(path) -> str:
    """``path`` relative to the data root (what a link can name), or '' for a file outside it or in a
    private folder (an upload is its session's own: a link must not name it)."""
    from pathlib import Path

    from astroml_core.config import settings

    cfg = settings()
    root, path = cfg.data_root, Path(path).resolve()
    private = any(path.is_relative_to(d) for d in cfg.private_dirs)
    return str(path.relative_to(root)) if path.is_relative_to(root) and not private else ""


def open_linked_or_demo(source) -> None:
    """Open the file a shared link names (``?file=…``, checked against the data root), else the demo."""
    query = url_query()
    if query.get("file"):
        source.open_path(str(query["file"]))
    else:
        source.open_demo()
