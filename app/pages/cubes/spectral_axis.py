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
from panel.custom import Child, JSComponent

from ...components.cube_facts import channel_text, convention
from ...components.locking import with_document_lock

__all__ = ["AXES", "SpectralAxisControl", "FocusKeys", "axis_label"]

AXES = {"Frequency (MHz)": "frequency", "Velocity, radio (km/s)": "radio", "Velocity, optical (km/s)": "optical",
        "Channel": "channel"}
_STEPS = {"ArrowRight": 1, "ArrowLeft": -1, "PageUp": 10, "PageDown": -10}
_SYMBOL = {"radio": "v<sub>rad</sub>", "optical": "v<sub>opt</sub>"}

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
return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : (+v.toFixed(digits)).toString();
"""


class FocusKeys(JSComponent):
    """Wraps a pane in a focusable box; ←/→/PageUp/PageDown pressed while it (or what it holds) has the focus
    become ``press`` = "<key>|<time>" (and do not scroll the page). Clicking the pane gives it the focus."""

    object = Child()
    press = param.String(default="", doc="The last stepping key pressed while focused, and when")

    _esm = """
    export function render({ model }) {
      const box = document.createElement('div');
      box.className = 'image-focus';
      box.tabIndex = 0;
      box.style.outline = 'none';
      box.append(model.get_child('object'));
      box.addEventListener('pointerdown', () => box.focus({preventScroll: true}));
      box.addEventListener('focus', () => { box.style.boxShadow = '0 0 0 2px #4a90d9'; });
      box.addEventListener('blur', () => { box.style.boxShadow = 'none'; });
      box.addEventListener('keydown', (e) => {
        if (!['ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown'].includes(e.key)) return;
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        e.preventDefault();
        e.stopPropagation();
        model.press = e.key + '|' + Date.now() + '|' + Math.random();
      });
      return box;
    }
    """


def axis_label(cube, channel: int, axis: str, velocity_choice: str) -> str:
    """The channel label with the chosen axis' value first (the frequency axis: the usual label)."""
    text = channel_text(cube, channel, velocity_choice)
    if axis not in _SYMBOL:
        return text
    v = cube.velocities_in(axis)[channel].to_value(u.km / u.s)
    return f"<b>{_SYMBOL[axis]} = {v:,.1f} km/s</b> ({axis}) · " + text


class SpectralAxisControl:
    """The axis chooser, the typed channel entry and the image's keyboard stepping for a CubePage ``page``
    (which owns the ``spectral_axis`` and ``channel`` parameters and ``step(delta)``)."""

    def __init__(self, page) -> None:
        self.page = page
        self.chooser = pn.widgets.Select.from_param(page.param.spectral_axis, label="Spectral axis", width=160,
                                                    css_classes=["spectral-axis"])
        self.channel_input = pn.widgets.IntInput.from_param(page.param.channel, label="", width=80,
                                                            css_classes=["channel-input"])
        self._keys: FocusKeys | None = None
        page.param.watch(self._axis_chosen, "spectral_axis")

    def focus_box(self, pane) -> FocusKeys:
        """The image pane inside a focusable box that steps channels on ←/→/PageUp/PageDown."""
        self._keys = FocusKeys(object=pane, margin=0)
        self._keys.param.watch(self._pressed, "press")
        return self._keys

    def _pressed(self, event) -> None:
        delta = _STEPS.get(event.new.split("|")[0])
        if delta:
            with_document_lock(lambda: self.page.step(delta))

    def _axis_chosen(self, event) -> None:
        """A velocity axis brings its convention with it (label, moments); then both spectrum axes are redone."""
        page = self.page
        if page.cube is None:
            return
        if event.new in _SYMBOL and convention(page.cube, page.velocity) != event.new:
            page.velocity = event.new          # the page's velocity watcher redraws the axes and the label
            return
        with_document_lock(page._set_velocity_axis)   # which ends by calling apply()
        with_document_lock(page._update_label)

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
            q, label, integer, digits = f, "Frequency (MHz)", False, 3
        elif axis == "channel":
            q, label, integer, digits = np.arange(f.size, dtype=float), "Channel", True, 0
        else:
            q = cube.velocities_in(axis).to_value(u.km / u.s).astype(float)
            label, integer, digits = f"Velocity, {axis} convention (km/s)", False, 1
            top = page.spectrum_view.velocity_axis
            top.formatter = CustomJSTickFormatter(code="return tick.toFixed(2);")
            top.axis_label = "Frequency (MHz)"
        args = dict(f=f.tolist(), q=q.tolist())
        bottom.ticker = CustomJSTicker(args=dict(args, integer=integer), major_code=_TICKS)
        bottom.formatter = CustomJSTickFormatter(args=dict(args, digits=digits), code=_LABEL)
        bottom.axis_label = label
