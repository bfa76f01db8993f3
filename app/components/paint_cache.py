"""Cheaper plot painting: Bokeh asks the browser for an element's computed style for every colour, width and
font it paints, and on a page of Panel's size each ask can cost a style recalculation (about a fifth of a cube
channel step in the browser). Within one task the styles cannot change, so the answers are kept until the task
ends. Installed per document; if Bokeh's internals differ from those it knows (another version), it does
nothing and painting is as before.

It also keeps Bokeh from rewriting a style sheet with the text it already holds: every renderer writes its
position into a ``<style>`` of its own at every paint, and Chromium takes each write, even of the same text,
as a style rule change that the next computed-style read must recalculate (a trace of ten channel steps: 350
such changes, about 3.2 s of style recalculation; an alternated A/B of 24 steps each took the median step from
345 to 188 ms)."""
from __future__ import annotations

from .page_scripts import run_when_ready

__all__ = ["install"]

_JS = """
if (!window.__astromlPaintCache) {
  try {                                  // a <style> given the text it holds is left alone
    const sheet = Bokeh.require("core/dom").InlineStyleSheet.prototype;
    if (typeof sheet._update !== "function") throw new Error("unknown Bokeh internals");
    sheet._update = function (css) { if (this.el.textContent !== css) this.el.textContent = css; };
    window.__astromlSameSheets = true;
  } catch (err) {
    window.__astromlSameSheets = false;
    console.info("style sheet guard not installed:", err.message);
  }
  try {
    const visual = Bokeh.require("core/visuals/visual").VisualProperties.prototype;
    const plot = Bokeh.require("models/plots/plot_canvas").PlotView.prototype;
    const text = Bokeh.require("core/util/text");
    const font = Object.getOwnPropertyDescriptor(plot, "base_font_size");
    if (typeof visual._get_css_value !== "function" || font === undefined || !text.parse_css_font_size)
      throw new Error("unknown Bokeh internals");
    let cache = new WeakMap(), clearing = false;
    const read = (el, key) => {          // el's computed value of ``key``, asked once per task
      let entry = cache.get(el);
      if (entry === undefined) {
        entry = {style: getComputedStyle(el), values: new Map()};
        cache.set(el, entry);
        if (!clearing) { clearing = true; setTimeout(() => { cache = new WeakMap(); clearing = false; }, 0); }
      }
      let value = entry.values.get(key);
      if (value === undefined) { value = entry.style.getPropertyValue(key); entry.values.set(key, value); }
      return value;
    };
    visual._get_css_value = function (name) { return read(this.obj.el, `${this.css_prefix}${name}`); };
    Object.defineProperty(plot, "base_font_size", {configurable: true, get() {
      const size = text.parse_css_font_size(read(this.el, "font-size"));
      return size != null && size.unit == "px" ? size.value : null;
    }});
    window.__astromlPaintCache = true;
  } catch (err) {
    window.__astromlPaintCache = false;
    console.info("paint cache not installed:", err.message);
  }
}"""


def install(doc) -> None:
    """Install the cache in ``doc``'s page once it is ready."""
    run_when_ready(doc, "paint-cache", _JS)
