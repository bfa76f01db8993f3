"""The inference page: posteriors, not points. A 21 cm lightcone → its side view, global signal and a corner
plot of six parameters with the truth; galaxies of one universe → the Ω_m posterior tightening as they
are added one by one; and the held-out checks (posterior mean vs truth, TARP coverage) of both models."""
from __future__ import annotations

import asyncio
from concurrent.futures import CancelledError
from functools import partial
from pathlib import Path

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from astroml_core.config import settings
from astroml_core.registry import read_card
from astroml_core.service.worker import Cancelled, service
from astroml_core.sim.galaxies import GALAXY_PARAMETERS
from astroml_core.sim.lightcone import PARAMETERS
from astroml_core.tasks.inference import (DEMO_UNIVERSES, LightconeData, combined_posterior, demo_universe,
                                          galaxy_table, grid_notes, lightcone_posterior, open_lightcone,
                                          posterior_summary)

from ..components.banner import Banner
from ..components.corner_plot import CornerPlot, axis_label
from ..components.cube_source import CubeSource
from ..components.heldout_view import heldout_layout
from ..components.lightcone_view import LightconeView
from ..components.locking import next_tick, run_io, with_document_lock
from ..components.safe_text import html_text, md_text
from ..components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .inference_applicability import ApplicabilityBox, status_line
from .spec import PageSpec

__all__ = ["SPEC", "InferencePage"]

TITLE = "Inference"
BLURB = ("Posteriors instead of points: six reionisation and cosmology parameters from a 21 cm "
         "lightcone (corner plot with the truth), Ω_m from one galaxy and from several galaxies of "
         "one universe, and the held-out checks that say whether the posteriors are calibrated.")
N_SAMPLES = 10_000
PALETTE = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]


def _posterior(data: LightconeData, progress=None):
    """Service job: posterior samples of one lightcone as an array (n, 6), and the table's meta."""
    table = lightcone_posterior(data, n_samples=N_SAMPLES)
    return np.column_stack([np.asarray(table[p.name].value) for p in PARAMETERS]), dict(table.meta)


def _notes(data: LightconeData, meta: dict | None) -> list:
    """What the posterior says about its reading of the file (e.g. a shorter line of sight), else the file's notes."""
    return list(meta["notes"]) if meta and "notes" in meta else [*data.notes, *grid_notes(data)]


def _e0_note(e0: dict) -> str:
    """The card's finding on E₀ in a sentence, when it is not constrained over the whole prior."""
    if e0["information_above_split"] == "constrained":
        return ""
    below = [r["half_width"] for r in e0["by_range"] if r["high"] <= e0["split_ev"] + 1e-3]
    above = min(r["half_width"] for r in e0["by_range"] if r["low"] >= e0["split_ev"])
    return (f"E₀ is read only below {e0['split_ev']:g} eV (held-out 68 % half-widths {min(below):.0f}–{max(below):.0f} eV "
            f"there); above it these lightcones carry {e0['information_above_split']} information on it (half-widths "
            f"≥ {above:.0f} eV, the prior's own spread): harder X-rays heat the box uniformly.")


class InferencePage(pn.viewable.Viewer):
    """Page state: the open lightcone, the galaxy universe and the galaxies added to its posterior."""

    file = param.String(default="", doc="The open lightcone, relative to the data root (for links)")
    row = param.Integer(default=16, bounds=(0, 1023), label="Transverse row of the side view")
    universe = param.Selector(default=next(iter(DEMO_UNIVERSES)), objects=list(DEMO_UNIVERSES))
    galaxies = param.List(default=[], item_type=int, doc="Galaxy ids added to the combined posterior, in order")
    tab = param.Integer(default=0, bounds=(0, 2))

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.data: LightconeData | None = None
        self.samples: np.ndarray | None = None
        self._job = None
        self.banner = Banner()
        self.source = CubeSource(on_path=self.open, on_error=self.banner.error, demo_prefix="lightcone_", noun="lightcone")
        fiducial = [o for o in self.source.demo_select.options if str(o).endswith("lightcone_fiducial.fits")]
        if fiducial:
            self.source.demo_select.value = fiducial[0]
        self.title = pn.pane.Markdown("### No lightcone open", margin=(0, 10), css_classes=["page-title"])
        self.status = pn.pane.HTML("", css_classes=["inference-status"], styles={"font-size": "13px"}, margin=(0, 10),
                                   max_width=900, sizing_mode="stretch_width")
        self.view = LightconeView()
        self.corner = CornerPlot(PARAMETERS)
        self.applicability = ApplicabilityBox()      # the misspecification warning, above the corner plot
        self.summary = pn.pane.HTML("", css_classes=["posterior-summary"], styles={"font-size": "12px"}, width=300,
                                    margin=(5, 5))
        self.row_slider = pn.widgets.IntSlider.from_param(self.param.row, width=260)
        self._build_galaxy_widgets()
        self.copy_link = copy_link_button()
        self.tabs = pn.Tabs(("Lightcone", self._lightcone_tab()), ("Galaxies", self._galaxy_tab()),
                            ("Held-out checks", pn.Column(css_classes=["heldout-tab"])), dynamic=True,
                            css_classes=["inference-tabs"])
        self.tabs.param.watch(lambda e: setattr(self, "tab", e.new), "active")
        sync_url(self, {"file": "file", "row": "row", "universe": "universe", "galaxies": "galaxies", "tab": "tab"})
        self._show_tab()
        self._load_universe()          # after the URL's universe and galaxies, which must not clear each other
        self.param.watch(self._universe_switched, "universe")
        open_linked_or_demo(self.source)

    @param.depends("tab", watch=True)
    def _show_tab(self) -> None:
        self.tabs.active = self.tab
        if self.tab == 2 and not len(self.tabs[2]):    # held-out plots only for sessions that look at them
            self._fill_heldout()

    # --- lightcone ----------------------------------------------------------------------------------
    def open(self, path: Path, label: str) -> None:
        """Open a lightcone file (on an I/O thread; read whole, so no bigger than an upload may be) and
        start its posterior; a bad file leaves the current one as it was."""
        run_io(partial(open_lightcone, path, max_bytes=settings().max_upload_bytes),
               partial(self._show_lightcone, path, label), self.banner.error)

    def _show_lightcone(self, path: Path, label: str, data: LightconeData) -> None:
        self.banner.clear()
        self.data = data
        self.file = link_path(path)
        self.title.object = f"### {md_text(label)}"
        self.param.row.bounds = (0, data.tb.shape[1] - 1)
        self.row = min(self.row, data.tb.shape[1] - 1)
        self._draw_side()
        self.run()

    @param.depends("row", watch=True)
    def _draw_side(self) -> None:
        if self.data is None:
            return
        d = self.data
        self.view.show(d.tb, d.redshift, d.cell_mpc, self.row,
                       f"δT_b along the line of sight, row x = {self.row * d.cell_mpc:.0f} Mpc", d.xhi)

    def run(self) -> None:
        """Posterior of the open lightcone on the inference service (inline outside a served session)."""
        if self.data is None:
            return
        self.status.object = "Computing the posterior…"
        self.applicability.clear()
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            try:
                self._done(self.data, *_posterior(self.data))
            except Exception as exc:
                self._failed(exc)
            return
        pn.state.execute(partial(self._run, doc, self.data))

    async def _run(self, doc, data: LightconeData) -> None:
        job = service().submit(_posterior, data, name="lightcone posterior")
        try:
            samples, meta = await asyncio.wrap_future(job.future)
        except (Cancelled, CancelledError):
            return
        except Exception as exc:
            next_tick(doc, partial(self._failed, exc))
            return
        next_tick(doc, partial(self._done, data, samples, meta))

    def _failed(self, exc: BaseException) -> None:
        self.status.object = "The posterior could not be computed"
        self.banner.error(exc)

    def _done(self, data: LightconeData, samples: np.ndarray, meta: dict | None = None) -> None:
        if data is not self.data:            # another lightcone was opened meanwhile
            return
        self.samples = samples
        self.corner.show(samples, data.truth)
        self.applicability.show(meta)
        self.summary.object = self._summary_html(samples, data.truth)
        width, height = (n * data.cell_mpc for n in data.tb.shape[:2])
        self.status.object = "<br>".join([f"Posterior: {len(samples):,} samples from the whole {width:.0f} × {height:.0f} Mpc "
                                          "box" + ("" if data.truth else " (no truth in this file)"),
                                          *filter(None, [status_line(meta)]),
                                          *(f"⚠ {html_text(note)}" for note in _notes(data, meta))])

    @staticmethod
    def _summary_html(samples: np.ndarray, truth: dict | None) -> str:
        from astropy.table import QTable

        table = posterior_summary(QTable({p.name: samples[:, i] for i, p in enumerate(PARAMETERS)}), truth)
        rows = "".join(
            f"<tr data-param='{r['parameter']}'><td>{axis_label(p)}</td><td class='median'>{r['median']:.4g}</td>"
            f"<td>{r['q16']:.4g} – {r['q84']:.4g}</td><td class='truth'>{'' if np.isnan(r['truth']) else format(r['truth'], '.4g')}</td>"
            f"<td>{'inside' if not np.isnan(r['truth']) and r['q02.5'] <= r['truth'] <= r['q97.5'] else ('' if np.isnan(r['truth']) else 'outside')}</td></tr>"
            for r, p in zip(table, PARAMETERS))
        return ("<table class='posterior-table' style='border-collapse:collapse' cellpadding='3'><tr><th>parameter</th>"
                "<th>median</th><th>68 % interval</th><th>truth</th><th>truth in 95 %</th></tr>" + rows + "</table>")

    def _lightcone_tab(self):
        front = read_card("lightcone_flow")[0]
        weak = [p.label for p in PARAMETERS if front["held_out"]["r2"][p.name] < 0.5]
        note = (f"Not constrained by these lightcones (held-out R² < 0.5): {', '.join(weak)} — its posterior stays "
                "near the prior. " if weak else "") + _e0_note(front["held_out_e0"])
        return pn.Column(
            self.source, self.title, self.status,
            pn.pane.Bokeh(self.view.layout, sizing_mode="fixed"), self.row_slider,
            self.applicability,                     # above the corner plot (the column beside it can be off-screen)
            # the table beside the corner plot where both fit (1440 px), else below it (1280 px cut it off)
            pn.Row(pn.pane.Bokeh(self.corner.layout, css_classes=["corner-plot"], sizing_mode="fixed"),
                   pn.Column(self.summary, pn.pane.Markdown(
                       "Red: the true parameters (simulated lightcones carry them). Dashed: the 68 % interval. "
                       "Axes span the prior. " + note, width=300, margin=(5, 5), styles={"font-size": "12px"}), margin=0),
                   styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width", margin=0))

    # --- galaxies -----------------------------------------------------------------------------------
    def _build_galaxy_widgets(self) -> None:
        self.universe_select = pn.widgets.Select.from_param(self.param.universe, width=260)
        self.galaxy_table = pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=300,
                                                 width=760, layout="fit_data_table", pagination=None,
                                                 css_classes=["galaxy-table"],
                                                 stylesheets=[".tabulator, .tabulator-cell { font-size: 12px !important; }"])
        self.add_button = pn.widgets.Button(label="Add selected galaxy", color="primary", width=180,
                                            css_classes=["add-galaxy"])
        self.add_button.on_click(lambda e: with_document_lock(self.add_selected))
        self.clear_button = pn.widgets.Button(label="Clear", width=80, css_classes=["clear-galaxies"])
        self.clear_button.on_click(lambda e: with_document_lock(partial(setattr, self, "galaxies", [])))
        self.interval = pn.pane.HTML("Select a galaxy in the table and add it", css_classes=["omega-interval"],
                                     styles={"font-size": "14px"}, width=760)
        self.curves = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]), name="omega-m-curves")
        fig = figure(name="omega-m-posterior", frame_width=520, frame_height=240, x_range=(0.1, 0.5),
                     x_axis_label="Ω_m", y_axis_label="posterior density (peak = 1)", tools="save,reset",
                     toolbar_location="right", title="Ω_m posterior as galaxies are added (feedback marginalised)")
        fig.multi_line("xs", "ys", color="color", source=self.curves, line_width=2, legend_field="label")
        fig.y_range.start = 0
        self.truth_span = Span(location=0.3, dimension="height", line_color="#d62728", line_width=2,
                               line_dash="dashed", name="galaxy-truth-omega_m")
        fig.add_layout(self.truth_span)
        fig.legend.location = "top_right"
        fig.legend.label_text_font_size = "10px"
        self.omega_fig = fig
        self._props = None
        self._truth = None
        self._posteriors: dict = {}

    def _galaxy_tab(self):
        front = read_card("galaxy_flow")[0]["held_out"]
        return pn.Column(
            pn.pane.Markdown(
                f"Each galaxy's 11 properties (log₁₀ of masses in M☉, V_max and σ_v in km/s, metallicities in Z☉, "
                f"SFR in M☉/yr, radii in kpc) give a posterior for Ω_m with the feedback parameters marginalised. "
                f"Held-out: median 68 % half-width {front['omega_m_median_relative_width']:.0%} of Ω_m, coverage "
                f"{front['omega_m_coverage_68']:.2f} at 68 %. Galaxies of one universe share its parameters, so "
                f"adding them multiplies their posteriors.", styles={"font-size": "13px"}, width=900),
            pn.Row(self.universe_select, pn.Column(pn.Spacer(height=18), pn.Row(self.add_button, self.clear_button))),
            self.galaxy_table, self.interval, pn.pane.Bokeh(self.omega_fig, sizing_mode="fixed"))

    def _load_universe(self) -> None:
        self._truth, self._props = demo_universe(self.universe)
        self.galaxy_table.value = galaxy_table(self._props).to_pandas()
        self.truth_span.location = self._truth["omega_m"]
        self._draw_galaxies()

    def _universe_switched(self, _event) -> None:
        """Another universe: its galaxies are not the ones added so far."""
        self.param.update(galaxies=[])
        self._load_universe()

    def add_selected(self) -> None:
        """Add the table's selected galaxy to the combined posterior."""
        sel = self.galaxy_table.selection
        if not sel:
            self.interval.object = "Select a galaxy (a row of the table) first"
            return
        gid = int(self.galaxy_table.value.iloc[sel[0]]["id"])
        if gid not in self.galaxies:
            self.galaxies = [*self.galaxies, gid]

    @param.depends("galaxies", watch=True)
    def _draw_galaxies(self) -> None:
        if self._props is None:
            return
        ids = [g for g in self.galaxies if 1 <= g <= len(self._props)]
        if not ids:
            self.curves.data = dict(xs=[], ys=[], color=[], label=[])
            self.interval.object = "Select a galaxy in the table and add it"
            return
        grid = np.linspace(0.1, 0.5, 161)
        xs, ys, colors, labels = [], [], [], []
        shown = list(range(max(0, len(ids) - len(PALETTE)), len(ids)))
        for n, k in enumerate(shown):
            post = self._combined(tuple(ids[:k + 1]))
            dens = _density(post.samples[:, 0], post.weights, grid)
            xs.append(grid)
            ys.append(dens / dens.max())
            colors.append(PALETTE[len(PALETTE) - len(shown) + n])
            labels.append(f"{k + 1} galax{'y' if k == 0 else 'ies'}")
        self.curves.data = dict(xs=xs, ys=ys, color=colors, label=labels)
        lo, med, hi = post.interval("omega_m")
        self.interval.object = (
            f"<b>{len(ids)} galax{'y' if len(ids) == 1 else 'ies'}</b> ({', '.join(map(str, ids))}): "
            f"Ω_m = <span class='om-median'>{med:.3f}</span>, 68 % interval "
            f"<span class='om-lo'>{lo:.3f}</span> – <span class='om-hi'>{hi:.3f}</span> "
            f"(half-width <span class='om-width'>{(hi - lo) / 2:.3f}</span>, {(hi - lo) / 2 / med:.0%}); "
            f"true Ω_m {self._truth['omega_m']:.2f}; effective samples {post.ess:,.0f}")

    def _combined(self, ids: tuple[int, ...]):
        """Joint posterior of these galaxies of the current universe (kept: earlier curves do not change)."""
        key = (self.universe, ids)
        if key not in self._posteriors:
            self._posteriors[key] = combined_posterior(self._props[np.array(ids) - 1])
        return self._posteriors[key]

    # --- held-out -------------------------------------------------------------------------------------
    def _fill_heldout(self) -> None:
        tab = self.tabs[2]
        tab[:] = [pn.pane.Markdown("#### Lightcone posterior (1,000 held-out lightcones)", margin=(5, 10)),
                  pn.pane.Bokeh(heldout_layout("lightcone_flow", PARAMETERS, "lightcone"), sizing_mode="fixed"),
                  pn.pane.Markdown("#### One-galaxy posterior (held-out galaxies, each from its own universe)",
                                   margin=(5, 10)),
                  pn.pane.Bokeh(heldout_layout("galaxy_flow", GALAXY_PARAMETERS, "galaxy"), sizing_mode="fixed")]

    def __panel__(self):
        return pn.Column(self.banner, pn.Row(self.copy_link), self.tabs, sizing_mode="stretch_width")


def _density(values: np.ndarray, weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Weighted Gaussian-kernel density on ``grid`` (Silverman bandwidth from the effective sample size)."""
    mean = np.sum(weights * values)
    sd = np.sqrt(np.sum(weights * (values - mean) ** 2))
    ess = 1 / np.sum(weights**2)
    bw = max(1.06 * sd * ess ** -0.2, 0.004)
    keep = weights > weights.max() * 1e-4
    diff = (grid[:, None] - values[None, keep]) / bw
    return (np.exp(-0.5 * diff**2) * weights[None, keep]).sum(axis=1)


# --- what a lesson step can do on this page: action(page, value) → True once applied ----------
def _lesson_open_lightcone(page, name) -> bool:
    if page.data is None or page.data.name != name:
        if page.source.demo_select.value != name:
            page.source.demo_select.value = name
            page.source.open_demo()
        return False
    return page.samples is not None


def _lesson_galaxies(page, ids) -> bool:
    page.galaxies = [int(i) for i in ids]
    return True


LESSON_ACTIONS = {"lightcone": _lesson_open_lightcone, "galaxies": _lesson_galaxies}

SPEC = PageSpec(slug="inference", title=TITLE, blurb=BLURB, factory=InferencePage, order=40, actions=LESSON_ACTIONS)
