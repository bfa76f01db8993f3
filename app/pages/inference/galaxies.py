"""The galaxies tab's pieces: the galaxy table, the Ω_m posterior figure and the sentence that introduces
them (with the galaxy model's held-out and foreign-test figures from its card)."""
from __future__ import annotations

import panel as pn
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from astroml_core.tasks.inference import galaxy_column_titles
from astroml_core.tasks.inference.cards import GALAXY_MODEL, card_front

from .state import OMEGA_M

__all__ = ["galaxy_intro", "galaxy_table_widget", "omega_figure"]

# every column on screen at 1,280 px: 12 px text, titles (with units) wrapping onto two lines
TABLE_STYLE = (".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } "
               ".tabulator-col-title { white-space: normal !important; } "
               ".tabulator-col-content { padding: 4px 6px !important; } "
               ".tabulator-col.tabulator-sortable .tabulator-col-title { padding-right: 12px !important; } "
               ".tabulator-row .tabulator-cell { padding: 3px 6px !important; }")


def galaxy_intro() -> str:
    """What the tab shows, with the galaxy model's held-out interval width and coverage."""
    card = card_front(GALAXY_MODEL)
    front = card["held_out"]
    foreign = card.get("foreign_test", {}).get("foreign")
    passed = (foreign or {}).get("unflagged") or {}
    wrong = passed.get("omega_m", {}).get("coverage_68", 1.0) < 0.6
    check = ("" if not foreign else
             f" A galaxy unlike the training galaxies is flagged and left out (its posterior withheld); of galaxies "
             f"made with other published relations and real-catalogue errors, {foreign['flag_rate']:.0%} were flagged"
             + (", and the model's answers for the rest were confidently wrong: it knows our generator's galaxies only."
                if wrong else "."))
    return (f"Each galaxy's 11 properties (log₁₀ of masses in M☉, V_max and σ_v in km/s, metallicities in Z☉, "
            f"SFR in M☉/yr, radii in kpc) give a posterior for Ω_m with the feedback parameters marginalised. "
            f"Held-out: median 68 % half-width {front['omega_m_median_relative_width']:.0%} of Ω_m, coverage "
            f"{front['omega_m_coverage_68']:.2f} at 68 %. Galaxies of one universe share its parameters, so "
            f"adding them multiplies their posteriors." + check)


def galaxy_table_widget() -> pn.widgets.Tabulator:
    """The universe's galaxies, one selectable row each."""
    return pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=320, width=1000,
                                layout="fit_columns", pagination=None, css_classes=["galaxy-table"],
                                titles=galaxy_column_titles(), widths={"id": 50}, stylesheets=[TABLE_STYLE])


def omega_figure() -> tuple:
    """(figure, its curves' source, the truth's dashed line): Ω_m posteriors as galaxies are added."""
    curves = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]), name="omega-m-curves")
    fig = figure(name="omega-m-posterior", frame_width=520, frame_height=240, x_range=(OMEGA_M.low, OMEGA_M.high),
                 x_axis_label="Ω_m", y_axis_label="posterior density (peak = 1)", tools="save,reset",
                 toolbar_location="right", title="Ω_m posterior as galaxies are added (feedback marginalised)")
    fig.multi_line("xs", "ys", color="color", source=curves, line_width=2, legend_field="label")
    fig.y_range.start = 0
    truth = Span(location=0.3, dimension="height", line_color="#d62728", line_width=2, line_dash="dashed",
                 name="galaxy-truth-omega_m")
    fig.add_layout(truth)
    fig.legend.location = "top_right"
    fig.legend.label_text_font_size = "10px"
    return fig, curves, truth
