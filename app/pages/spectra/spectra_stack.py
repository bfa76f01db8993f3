"""A Bokeh figure of selected spectra stacked with offsets, the selection's median below them, and the main
lines marked: in the rest frame when every selected spectrum has a redshift (each drawn at its own rest
wavelength, the median stacked by ``astroml_core.tasks.spectra.stacking``), else in the observed frame, and the
axis and title say which."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LabelSet, Segment
from bokeh.plotting import figure

from astroml_core.display.scatter import CATEGORY_COLOURS
from astroml_core.tasks.spectra.stacking import rest_wavelength, selection_redshifts, stack_spectra
from astroml_core.tasks.spectra.survey import DISPLAY_BIN as BIN
from astroml_core.tasks.spectra.survey import binned_wavelength, display_rows

__all__ = ["SpectraStack", "LINES", "OBSERVED_AXIS", "REST_AXIS", "count"]

LINES = {"Lyα": 1215.7, "C IV": 1549.1, "C III]": 1908.7, "Mg II": 2798.8, "[O II]": 3728.0, "K": 3933.7,
         "H": 3968.5, "Hδ": 4101.7, "G": 4305.0, "Hγ": 4340.5, "Hβ": 4861.3, "[O III]": 5006.8, "Mg b": 5175.0,
         "Na D": 5892.9, "Hα": 6562.8, "[N II]": 6583.5, "[S II]": 6724.0, "Ca T": 8600.0}
STEP = 1.6
OBSERVED_AXIS = "Observed wavelength (Å, vacuum)"
REST_AXIS = "Rest wavelength (Å, vacuum)"
MEDIAN_SAMPLE = 500          # spectra of a selection in its median (seeded sample)


def count(n: int, one: str = "spectrum", many: str = "spectra") -> str:
    """``n`` and its noun in the right number: "1 spectrum", "2 spectra", "1,200 spectra"."""
    return f"{n:,} {one if n == 1 else many}"


class SpectraStack:
    """Up to ``max_rows`` spectra, offset by 1.6 each, with the median at the bottom; names for tests."""

    def __init__(self, *, width: int = 620, height: int = 470, max_rows: int = 8) -> None:
        self.max_rows = max_rows
        fig = figure(frame_width=width, frame_height=height, name="spectra-stack", toolbar_location="above",
                     tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
                     x_axis_label=OBSERVED_AXIS, y_axis_label="Flux / median + offset", title="Select spectra in the map")
        self.source = ColumnDataSource(dict(xs=[], ys=[], color=[], width=[]), name="spectra-stack-source")
        fig.multi_line("xs", "ys", source=self.source, line_color="color", line_width="width")
        self.labels = ColumnDataSource(dict(x=[], y=[], text=[]), name="spectra-stack-labels")
        fig.add_layout(LabelSet(x="x", y="y", text="text", source=self.labels, text_font_size="10px",
                                background_fill_color="white", background_fill_alpha=0.7))
        self.lines = ColumnDataSource(dict(x=[], y0=[], y1=[], text=[]), name="spectra-stack-lines")
        fig.add_glyph(self.lines, Segment(x0="x", x1="x", y0="y0", y1="y1", line_color="#888888",
                                          line_dash="dotted", line_width=1))
        fig.add_layout(LabelSet(x="x", y="y1", text="text", source=self.lines, text_font_size="9px", angle=1.5708,
                                text_color="#555555", x_offset=-2, text_baseline="bottom"))
        fig.yaxis.major_label_text_font_size = "0px"
        self.fig = fig
        self._rest_z: dict[int, float] = {}       # redshift of each spectrum drawn in the rest frame

    def show(self, wavelength: np.ndarray, rows: np.ndarray, names: list[str], classes: list[int],
             median: np.ndarray | None, z: float | None, title: str, max_rows: int | None = None, *,
             row_lam: list[np.ndarray] | None = None, median_lam: np.ndarray | None = None,
             axis: str = OBSERVED_AXIS) -> None:
        """Draw display rows (from ``display_rows``), the first on top, the median below them; lines at redshift
        ``z``. ``row_lam`` / ``median_lam`` give each row's and the median's own wavelengths (rest frame), else
        all share ``wavelength`` binned like the rows. Spectra drawn before are forgotten (:meth:`wavelength_of`)."""
        self._rest_z = {}
        lam = binned_wavelength(wavelength, BIN)
        row_lam = row_lam if row_lam is not None else [lam[: len(row)] for row in rows]
        xs, ys, colours, widths, lx, ly, text = [], [], [], [], [], [], []
        base = 0.0
        if median is not None:
            mlam = lam if median_lam is None else median_lam
            xs.append(mlam), ys.append(np.clip(median, -1, 4)), colours.append("#000000"), widths.append(1.8)
            lx.append(float(np.nanmin(mlam))), ly.append(base + 1.1), text.append("median of the selection")
            base += STEP
        drawn = list(zip(rows[: max_rows or self.max_rows], row_lam, names, classes))
        for row, x, name, cls in drawn[::-1]:                # the first row ends up on top
            xs.append(x), ys.append(np.clip(row, -1, 4) + base)
            colours.append(CATEGORY_COLOURS[cls % len(CATEGORY_COLOURS)]), widths.append(1.0)
            lx.append(float(x[0])), ly.append(base + 1.1), text.append(name)
            base += STEP
        self.source.data = dict(xs=[np.nan_to_num(x) for x in xs], ys=[np.where(np.isfinite(y), y, np.nan) for y in ys],
                                color=colours, width=widths)
        self.labels.data = dict(x=lx, y=ly, text=text)
        top = base + 0.6
        lo, hi = (min(float(np.nanmin(x)) for x in xs), max(float(np.nanmax(x)) for x in xs)) if xs else (0.0, 1.0)
        if z is not None and len(xs):
            obs = {k: v * (1 + z) for k, v in LINES.items() if lo < v * (1 + z) < hi}
            self.lines.data = dict(x=list(obs.values()), y0=[-0.5] * len(obs), y1=[top] * len(obs), text=list(obs))
        else:
            self.lines.data = dict(x=[], y0=[], y1=[], text=[])
        if len(xs):
            self.fig.x_range.update(start=lo, end=hi)
            self.fig.y_range.update(start=-0.8, end=top + 0.9)
        self.fig.xaxis.axis_label = axis
        self.fig.title.text = title

    def show_selection(self, spectra, shown: np.ndarray, index: np.ndarray, names: list[str], classes: list[int]) -> None:
        """Spectra ``shown`` (the first on top) of the selection ``index`` and its median: in the rest frame when every
        selected spectrum has a redshift, else in the observed frame with the reason in the title."""
        flux, ivar = spectra.rows(np.sort(shown))
        rows = display_rows(flux, ivar)[np.argsort(np.argsort(shown))]
        lam = binned_wavelength(spectra.wavelength, BIN)
        z_all = selection_redshifts(spectra.meta, index)
        rest = bool(np.all(np.isfinite(z_all) & (z_all > -1)))
        z_shown = selection_redshifts(spectra.meta, shown)
        median = median_lam = None
        if len(index) > 1:
            sample = np.sort(np.random.default_rng(0).choice(index, min(len(index), MEDIAN_SAMPLE), replace=False))
            stacked = stack_spectra(lam, display_rows(*spectra.rows(sample)),
                                    selection_redshifts(spectra.meta, sample) if rest else None)
            median, median_lam = stacked.median, stacked.wavelength
        head = f"{len(shown)} of {count(len(index))} selected"
        if rest:
            lo, hi = round(z_all.min(), 3) + 0.0, round(z_all.max(), 3) + 0.0       # + 0.0: no "-0.000"
            span = f"z = {lo:.3f}" + (f"–{hi:.3f}" if hi > lo else "")
            title = f"{head}, in the rest frame (each at its own redshift, {span}); lines at rest wavelengths"
            self.show(spectra.wavelength, rows, names, classes, median, 0.0, title,
                      row_lam=[rest_wavelength(lam, zi) for zi in z_shown], median_lam=median_lam, axis=REST_AXIS)
            self._rest_z = dict(zip(map(int, shown), z_shown))
            return
        missing = int((~np.isfinite(z_all)).sum())
        why = ("no redshifts in this file" if "z" not in spectra.meta else
               f"{count(missing)} of {len(index):,} without a redshift")
        known = z_all[np.isfinite(z_all)]
        z = float(np.median(known)) if len(known) else None
        title = (f"{head}, in the observed frame ({why})" +
                 (f"; lines at z = {z:.3f}, the median of those with one" if z is not None else ""))
        self.show(spectra.wavelength, rows, names, classes, median, z, title)

    def wavelength_of(self, i: int, observed: np.ndarray) -> np.ndarray | None:
        """Spectrum ``i``'s pixel wavelengths in the frame the stack is drawn in (rest when it is, at ``i``'s
        redshift); None when the stack is in the rest frame without ``i`` (a late answer for an old selection)."""
        if self.fig.xaxis.axis_label != REST_AXIS:
            return observed
        z = self._rest_z.get(int(i))
        return None if z is None else rest_wavelength(observed, z)


class SaliencyView:
    """Per-pixel attribution of the top spectrum's class, under the stack and sharing its wavelength axis."""

    def __init__(self, stack: SpectraStack, *, width: int = 620, height: int = 130) -> None:
        self.source = ColumnDataSource(dict(x=[], top=[], color=[]), name="saliency-source")
        fig = figure(frame_width=width, frame_height=height, name="saliency-figure", x_range=stack.fig.x_range,
                     toolbar_location=None, tools="", x_axis_label=OBSERVED_AXIS,
                     y_axis_label="Δp per bin", title="What the model sees")
        fig.vbar(x="x", top="top", width=4 * 2.0, color="color", source=self.source)
        fig.title.text_font_size = "11px"
        self.fig = fig
        self._stack = stack

    def show(self, wavelength: np.ndarray | None, attribution: np.ndarray | None, title: str) -> None:
        """Attribution per pixel (summed into display bins): green raised the class's probability, red lowered it;
        on the stack's wavelength axis (rest or observed). ``wavelength`` None: an answer for spectra no longer shown."""
        if wavelength is None:
            return
        self.fig.xaxis.axis_label = self._stack.fig.xaxis.axis_label
        if attribution is None:
            self.source.data = dict(x=[], top=[], color=[])
        else:
            n = len(attribution) // BIN * BIN
            lam = wavelength[:n].reshape(-1, BIN).mean(axis=1)
            top = attribution[:n].reshape(-1, BIN).sum(axis=1)
            self.source.data = dict(x=lam, top=top, color=np.where(top >= 0, "#2ca02c", "#d62728"))
        self.fig.title.text = title
