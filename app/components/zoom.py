"""Whole-page zoom for lecturer mode: CSS ``zoom`` on the document, so text, widgets and plots grow together."""
from __future__ import annotations

import param
from panel.custom import JSComponent

__all__ = ["PageZoom"]


class PageZoom(JSComponent):
    """Invisible; sets the page's zoom factor (1 = normal)."""

    zoom = param.Number(default=1.0, bounds=(0.5, 3.0))

    _esm = """
    export function render({ model }) {
      const apply = () => { document.documentElement.style.zoom = String(model.zoom); };
      apply();
      model.on('zoom', apply);
      model.on('remove', () => { document.documentElement.style.zoom = ''; });
      const el = document.createElement('span');
      el.className = 'page-zoom';
      return el;
    }
    """
