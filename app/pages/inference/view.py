"""The inference page: posteriors, not points. A 21 cm lightcone → its side view, global signal and a corner
plot of six parameters with the truth; galaxies of one universe → the Ω_m posterior tightening as they
are added one by one; and the held-out checks (posterior mean vs truth, TARP coverage) of both models.
The plots are Bokeh figures built once and fed new data; the state lives in :mod:`.state`."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import panel as pn
import param

from astroml_core.config import settings
from astroml_core.sim.galaxies import GALAXY_PARAMETERS
from astroml_core.sim.lightcone import PARAMETERS
from astroml_core.tasks.inference import LightconeData, galaxy_table, open_lightcone, posterior_summary
from astroml_core.tasks.inference.cards import GALAXY_MODEL, LIGHTCONE_MODEL

from ...components.banner import Banner
from ...components.cube_source import CubeSource
from ...components.jobs import start_job
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import html_text, md_text
from ...components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .applicability import ApplicabilityBox, status_line
from .corner_plot import CornerPlot, axis_label
from .galaxies import galaxy_intro, galaxy_table_widget, omega_figure
from .heldout_view import heldout_layout
from .lightcone_view import LightconeView
from .state import InferenceState, lightcone_note, notes, posterior_samples

__all__ = ["InferencePage"]


class InferencePage(InferenceState, pn.viewable.Viewer):
    """The page's widgets over its :class:`InferenceState`: lightcone, galaxies and held-out tabs."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
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
        self.take_lightcone(data)
        self.file = link_path(path)
        self.title.object = f"### {md_text(label)}"
        self._draw_side()
        self.run()

    @param.depends("row", watch=True)
    def _draw_side(self) -> None:
        if self.data is not None:
            d = self.data
            self.view.show(d.tb, d.redshift, d.cell_mpc, self.row, self.side_title(), d.xhi)

    def run(self) -> None:
        """Posterior of the open lightcone, as a job of the app's runner."""
        if self.data is None:
            return
        self.status.object = "Computing the posterior…"
        self.applicability.clear()
        start_job(posterior_samples, self.data, name="lightcone posterior", then=partial(self._done, self.data),
                  on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.status.object = "The posterior could not be computed"
        self.banner.error(exc)

    def _done(self, data: LightconeData, result: tuple) -> None:
        samples, meta = result
        if not self.take_posterior(data, samples):
            return
        self.corner.show(samples, data.truth)
        self.applicability.show(meta)
        self.summary.object = _summary_html(samples, data.truth)
        self.status.object = "<br>".join([self.posterior_headline(), *filter(None, [status_line(meta)]),
                                          *(f"⚠ {html_text(note)}" for note in notes(data, meta))])

    def _lightcone_tab(self):
        return pn.Column(
            self.source, self.title, self.status,
            pn.pane.Bokeh(self.view.layout, sizing_mode="fixed"), self.row_slider,
            self.applicability,                     # above the corner plot (the column beside it can be off-screen)
            # the table beside the corner plot where both fit (1440 px), else below it (1280 px cut it off)
            pn.Row(pn.pane.Bokeh(self.corner.layout, css_classes=["corner-plot"], sizing_mode="fixed"),
                   pn.Column(self.summary, pn.pane.Markdown(
                       "Red: the true parameters (simulated lightcones carry them). Dashed: the 68 % interval. "
                       "Axes span the prior. " + lightcone_note(), width=300, margin=(5, 5),
                       styles={"font-size": "12px"}), margin=0),
                   styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width", margin=0))

    # --- galaxies -----------------------------------------------------------------------------------
    def _build_galaxy_widgets(self) -> None:
        self.universe_select = pn.widgets.Select.from_param(self.param.universe, width=260)
        self.galaxy_table = galaxy_table_widget()
        self.add_button = pn.widgets.Button(label="Add selected galaxy", color="primary", width=180,
                                            css_classes=["add-galaxy"])
        self.add_button.on_click(lambda e: with_document_lock(self.add_selected))
        self.clear_button = pn.widgets.Button(label="Clear", width=80, css_classes=["clear-galaxies"])
        self.clear_button.on_click(lambda e: with_document_lock(partial(setattr, self, "galaxies", [])))
        self.interval = pn.pane.HTML("Select a galaxy in the table and add it", css_classes=["omega-interval"],
                                     styles={"font-size": "14px"}, width=760)
        self.omega_fig, self.curves, self.truth_span = omega_figure()
        self.galaxy_applicability = ApplicabilityBox()     # the galaxies' misspecification warning, above the figure

    def _galaxy_tab(self):
        return pn.Column(
            pn.pane.Markdown(galaxy_intro(), styles={"font-size": "13px"}, width=900),
            pn.Row(self.universe_select, pn.Column(pn.Spacer(height=18), pn.Row(self.add_button, self.clear_button))),
            self.galaxy_table, self.interval, self.galaxy_applicability,
            pn.pane.Bokeh(self.omega_fig, sizing_mode="fixed"))

    def _load_universe(self) -> None:
        self.load_universe()
        self.galaxy_table.value = galaxy_table(self.properties).to_pandas()
        self.truth_span.location = self.universe_truth["omega_m"]
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
        if self.properties is not None:
            self.curves.data = self.omega_curves()
            self.interval.object = self.interval_html()
            self.galaxy_applicability.show(self.galaxy_check())

    # --- held-out -------------------------------------------------------------------------------------
    def _fill_heldout(self) -> None:
        self.tabs[2][:] = [
            pn.pane.Markdown("#### Lightcone posterior (1,000 held-out lightcones)", margin=(5, 10)),
            pn.pane.Bokeh(heldout_layout(LIGHTCONE_MODEL, PARAMETERS, "lightcone"), sizing_mode="fixed"),
            pn.pane.Markdown("#### One-galaxy posterior (held-out galaxies, each from its own universe)", margin=(5, 10)),
            pn.pane.Bokeh(heldout_layout(GALAXY_MODEL, GALAXY_PARAMETERS, "galaxy"), sizing_mode="fixed")]

    def __panel__(self):
        return pn.Column(self.banner, pn.Row(self.copy_link), self.tabs, sizing_mode="stretch_width")


def _summary_html(samples: np.ndarray, truth: dict | None) -> str:
    """The posterior table: median, 68 % interval, truth and whether the truth is inside the 95 % interval."""
    from astropy.table import QTable

    table = posterior_summary(QTable({p.name: samples[:, i] for i, p in enumerate(PARAMETERS)}), truth)
    rows = "".join(
        f"<tr data-param='{r['parameter']}'><td>{axis_label(p)}</td><td class='median'>{r['median']:.4g}</td>"
        f"<td>{r['q16']:.4g} – {r['q84']:.4g}</td><td class='truth'>{'' if np.isnan(r['truth']) else format(r['truth'], '.4g')}</td>"
        f"<td>{'' if np.isnan(r['truth']) else ('inside' if r['q02.5'] <= r['truth'] <= r['q97.5'] else 'outside')}</td></tr>"
        for r, p in zip(table, PARAMETERS))
    return ("<table class='posterior-table' style='border-collapse:collapse' cellpadding='3'><tr><th>parameter</th>"
            "<th>median</th><th>68 % interval</th><th>truth</th><th>truth in 95 %</th></tr>" + rows + "</table>")
