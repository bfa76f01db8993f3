"""The cube page's spectral-axis controls: the axis chooser (frequency, radio or optical velocity, channel) that
relabels the channel label and the spectrum's x axis, a typed channel entry, and keyboard stepping (←/→ one
channel, PageUp/PageDown ten) while the image has the focus.

The spectrum keeps frequency (MHz) as its data coordinate (its tap, markers and other lines stay in MHz); the
bottom axis is ticked at round values of the chosen quantity, found in the browser by interpolating the
cube's per-channel table (frequency → quantity), so every convention is exact at the channel centres.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
import panel as pn
import param
from bokeh.models import CustomJSTicker, CustomJSTickFormatter
from panel.custom import JSComponent

from .cube_facts import channel_text, convention
from ...components.keyboard import FIND_DEEP_JS
from ...components.locking import with_document_lock

__all__ = ["AXES", "SpectralAxisControl", "FocusKeys", "axis_label"]

AXES = {"Frequency (MHz)": "frequency", "Velocity, radio (km/s)": "radio", "Velocity, optical (km/s)": "optical",
        "Channel": "channel"}
_STEPS = {"ArrowRight": 1, "ArrowLeft": -1, "PageUp": 10, "PageDown": -10}
_FIGURE_CLASS = "cube-image-focus"
_VELOCITY_AXES = ("radio", "optical")

# JS shared by ticker and formatter: piecewise-linear interpolation in a monotonic table, extrapolated
_INTERP = """
function interp(x, xs, ys) {
  const n = xs.length;
  if (n < 2) return ys[0];
  const up = xs[n - 1] > xs[0];
  let lo = 0, hi = n - 1;
  if ((up && x <= xs[0]) || (!up && x >= xs[0])) { hi = 1; }
  else if ((up && x >= xs[n - 1]) || (!up && x <= xs[n - 1])) { lo = n - 2; }
  else {
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if ((xs[m] <= x) === up) lo = m; else hi = m; }
  }
  return ys[lo] + (x - xs[lo]) * (ys[hi] - ys[lo]) / (xs[hi] - xs[lo]);
}
"""
_TICKS = _INTERP + """
const a = interp(cb_data.start, f, q), b = interp(cb_data.end, f, q);
const lo = Math.min(a, b), hi = Math.max(a, b);
const raw = (hi - lo) / 6 || 1, mag = Math.pow(10, Math.floor(Math.log10(raw)));
let step = [1, 2, 5, 10].map(s => s * mag).find(s => s >= raw);
if (integer) step = Math.max(1, Math.round(step));
const out = [];
for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(interp(t, q, f));
return out;
"""
_LABEL = _INTERP + """
const v = interp(tick, f, q);
const step = ticks.length > 1 ? Math.abs(interp(ticks[1], f, q) - interp(ticks[0], f, q)) : 1;
const d = Math.max(0, Math.min(6, -Math.floor(Math.log10(step || 1) + 1e-9)));
return v.toLocaleString('en-US', {minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: grouping});
"""


class FocusKeys(JSComponent):
    """Invisible. Makes the element with CSS class ``target`` (the image figure, found through every shadow root)
    focusable; ←/→/PageUp/PageDown pressed while it has the focus become ``press`` = "<key>|<time>" (and do not
    scroll the page). Clicking the figure gives it the focus, shown by a blue ring."""

    target = param.String(default="", doc="CSS class of the element to make focusable")
    press = param.String(default="", doc="The last stepping key pressed while focused, and when")

    _esm = FIND_DEEP_JS + """
    const KEYS = ['ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown'];
    export function render({ model }) {
      let wired = null;
      const wire = () => {
        if (wired && wired.isConnected) return;
        const el = findDeep(document, '.' + model.target);
        if (!el) return;
        wired = el;
        el.tabIndex = 0;
        el.style.outline = 'none';
        el.addEventListener('pointerdown', () => el.focus({preventScroll: true}));
        el.addEventListener('focus', () => { el.style.boxShadow = '0 0 0 2px #4a90d9'; });
        el.addEventListener('blur', () => { el.style.boxShadow = 'none'; });
        el.addEventListener('keydown', (e) => {
          if (!KEYS.includes(e.key) || e.ctrlKey || e.metaKey || e.altKey) return;
          e.preventDefault();
          e.stopPropagation();
          model.press = e.key + '|' + Date.now() + '|' + Math.random();
        });
      };
      wire();
      const timer = setInterval(wire, 500);     // the figure renders after us, and is rebuilt on re-render
      model.on('remove', () => clearInterval(timer));
      const span = document.createElement('span');
      span.className = 'image-keys';
      return span;
    }
    """


def axis_label(cube, channel: int, axis: str, velocity_choice: str) -> str:
    """The channel label, led by the chosen axis' quantity (a velocity axis: that velocity, in bold)."""
    return channel_text(cube, channel, velocity_choice, lead=axis)


class SpectralAxisControl:
    """The axis chooser, the typed channel entry and the image's keyboard stepping for a CubePage ``page``
    (which owns the ``spectral_axis`` and ``channel`` parameters and ``step(delta)``)."""

    def __init__(self, page) -> None:
        self.page = page
        self.chooser = pn.widgets.Select.from_param(page.param.spectral_axis, label="Spectral axis", width=160,
                                                    css_classes=["spectral-axis"])
        self.channel_input = pn.widgets.IntInput.from_param(page.param.channel, label="", width=75,
                                                            css_classes=["channel-input"])
        page.image.fig.css_classes = [*page.image.fig.css_classes, _FIGURE_CLASS]
        self.keys = FocusKeys(target=_FIGURE_CLASS, width=0, height=0, margin=0)
        self.keys.param.watch(self._pressed, "press")
        page.param.watch(self._axis_chosen, "spectral_axis")

    def _pressed(self, event) -> None:
        delta = _STEPS.get(event.new.split("|")[0])
        if delta:
            with_document_lock(lambda: self.page.step(delta))

    def _axis_chosen(self, event) -> None:
        """A velocity axis brings its convention with it (label, moments); then both spectrum axes are redone."""
        page = self.page
        if page.cube is None:
            return
        if event.new in _VELOCITY_AXES and convention(page.cube, page.velocity) != event.new:
            page.velocity = event.new          # the page's velocity watcher redraws the axes and the label
            return
        with_document_lock(page.set_velocity_axis)   # which ends by calling apply()
        with_document_lock(page.update_label)

    def apply(self) -> None:
        """Tick and label the spectrum's bottom axis in the chosen quantity (the top axis shows frequency when
        the bottom shows velocity)."""
        page, axis = self.page, self.page.spectral_axis
        cube = page.cube
        if cube is None:
            return
        fig = page.spectrum_view.fig
        bottom = fig.below[0]
        f = cube.frequencies.to_value(u.MHz).astype(float)
        if axis == "frequency":
            q, label, integer, grouping = f, "Frequency (MHz)", False, False
        elif axis == "channel":
            q, label, integer, grouping = np.arange(f.size, dtype=float), "Channel", True, False
        else:
            q = cube.velocities_in(axis).to_value(u.km / u.s).astype(float)
            label, integer, grouping = f"Velocity, {axis} convention (km/s)", False, True
            top = page.spectrum_view.velocity_axis
            top.formatter = CustomJSTickFormatter(code="return tick.toFixed(2);")
            top.axis_label = "Frequency (MHz)"
        args = dict(f=f.tolist(), q=q.tolist())
        bottom.ticker = CustomJSTicker(args=dict(args, integer=integer), major_code=_TICKS)
        bottom.formatter = CustomJSTickFormatter(args=dict(args, grouping=grouping), code=_LABEL)
        bottom.axis_label = label
