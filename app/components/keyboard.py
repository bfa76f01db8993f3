"""Keyboard shortcuts for a page: key presses outside text fields reach Python as ``press`` events.

"c" is handled in the browser: it moves the focus to the page's comment box (which lives in Panel's
shadow DOM, so it is searched for through every shadow root).
"""
from __future__ import annotations

import param
from panel.custom import JSComponent

__all__ = ["KeyShortcuts", "FIND_DEEP_JS"]

# JavaScript: the first element matching a selector, searched through every shadow root (Panel renders into them)
FIND_DEEP_JS = """
    function findDeep(root, selector) {
      const hit = root.querySelector(selector);
      if (hit) return hit;
      for (const node of root.querySelectorAll('*')) {
        if (node.shadowRoot) { const f = findDeep(node.shadowRoot, selector); if (f) return f; }
      }
      return null;
    }
"""


class KeyShortcuts(JSComponent):
    """Invisible; ``press`` becomes "<key>|<time>" on every key pressed outside inputs."""

    press = param.String(default="", doc="The last key and when it was pressed")

    _esm = FIND_DEEP_JS + """
    export function render({ model }) {
      const handler = (e) => {
        const path = e.composedPath ? e.composedPath() : [];
        if (path.some(n => n.tagName === 'INPUT' || n.tagName === 'TEXTAREA' || n.tagName === 'SELECT'
                           || n.isContentEditable)) return;
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key === 'c') {
          const host = findDeep(document, '.vet-comment-box');
          const box = host && (host.shadowRoot || host).querySelector('textarea');
          if (box) { e.preventDefault(); box.focus(); }
          return;
        }
        model.press = e.key + '|' + Date.now();
      };
      document.addEventListener('keydown', handler);
      model.on('remove', () => document.removeEventListener('keydown', handler));
      const el = document.createElement('span');
      el.className = 'key-shortcuts';
      return el;
    }
    """
