"""Whole-page zoom for lecturer mode: CSS ``zoom`` on the document, so text and widgets grow together.

Bokeh's plots are kept at zoom 1 inside the zoomed page (a counter-zoom on each outermost plot): under
CSS zoom Bokeh lays a canvas out for its zoomed on-screen width but draws it at its own, so a figure came
out cut and stretched, and clicks landed on the wrong pixel (its pointer maths takes screen pixels for
its own). While zoomed, the navigation sidebar is folded away (the header's ☰ button opens it) so that
the page keeps the projector's width; it comes back when the zoom returns to 1.
"""
from __future__ import annotations

import param
from panel.custom import JSComponent

__all__ = ["PageZoom"]


class PageZoom(JSComponent):
    """Invisible; sets the page's zoom factor (1 = normal)."""

    zoom = param.Number(default=1.0, bounds=(0.5, 3.0))

    _esm = """
    const PLOTS = new Set(['Figure', 'Plot', 'GridPlot', 'GMapPlot', 'GMap']);

    // every outermost plot view gets the inverse zoom, so its effective zoom is 1 (nested ones inherit it)
    function unzoomPlots(z) {
      if (typeof Bokeh === 'undefined' || !Bokeh.index) return;
      for (const view of Bokeh.index.all_views()) {
        if (!PLOTS.has(view.model.type)) continue;
        let nested = false;
        for (let p = view.parent; p != null; p = p.parent) {
          if (PLOTS.has(p.model.type)) { nested = true; break; }
        }
        const want = (nested || z === 1) ? '' : String(1 / z);
        if (view.el.style.zoom !== want) {
          view.el.style.zoom = want;
          if (typeof view.invalidate_layout === 'function') view.invalidate_layout();
        }
      }
    }

    // fold the template's sidebar away while zoomed (its own toggle, so the ☰ button stays in step)
    function sidebar(show, state) {
      const bar = document.getElementById('sidebar'), toggle = document.getElementById('sidebar-toggle');
      if (bar == null || toggle == null) return;
      const shown = bar.classList.contains('show');
      if (!show && shown && !state.folded) { toggle.click(); state.folded = true; }
      else if (show && state.folded) { if (!shown) toggle.click(); state.folded = false; }
    }

    export function render({ model }) {
      const state = { folded: false, timer: null };
      const apply = () => {
        const z = model.zoom;
        document.documentElement.style.zoom = z === 1 ? '' : String(z);
        unzoomPlots(z);
        sidebar(z === 1, state);
        if (state.timer != null) { clearInterval(state.timer); state.timer = null; }
        // plots appear later (tabs, maps computed): keep them at zoom 1 while the page is zoomed
        if (z !== 1) state.timer = setInterval(() => unzoomPlots(model.zoom), 500);
      };
      setTimeout(apply, 0);
      model.on('zoom', apply);
      model.on('remove', () => {
        if (state.timer != null) clearInterval(state.timer);
        document.documentElement.style.zoom = '';
        unzoomPlots(1);
        sidebar(true, state);
      });
      const el = document.createElement('span');
      el.className = 'page-zoom';
      return el;
    }
    """
