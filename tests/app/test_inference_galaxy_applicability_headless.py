"""The inference page's galaxies (state and warning box, no server): a galaxy table with a galaxy unlike the
training galaxies shows the off-distribution warning with its row and score; demo galaxies show none."""
from __future__ import annotations

import numpy as np


def _state():
    from app.pages.inference.state import InferenceState

    state = InferenceState()
    state.load_universe()
    return state


def test_an_off_distribution_galaxy_table_shows_the_warning():
    from app.pages.inference.applicability import HEADING, ApplicabilityBox

    state = _state()
    state.properties = state.properties.copy()
    state.properties[1] += np.eye(11)[4]                    # galaxy 2: V_max ten times too high
    state.galaxies = [1, 2, 3]
    meta = state.galaxy_check()
    assert meta["in_distribution"] is False and meta["applicability"]["flagged_rows"] == [2]
    box = ApplicabilityBox()
    box.show(meta)
    assert HEADING in box.text and r"\(row 2\)" in box.text and "left out" in box.text
    assert "Off-distribution galaxies" in state.interval_html()
    assert "<b>2 galaxies</b> (1, 3), left out as unlike the training galaxies: 2" in state.interval_html()


def test_demo_galaxies_show_no_warning():
    from app.pages.inference.applicability import ApplicabilityBox

    state = _state()
    state.galaxies = [1, 2, 3, 4]
    meta = state.galaxy_check()
    assert meta["in_distribution"] is True
    box = ApplicabilityBox()
    box.show(meta)
    assert box.text == "" and "Off-distribution" not in state.interval_html()
    state.galaxies = []
    assert state.galaxy_check() == {}


def test_the_galaxies_intro_quotes_the_foreign_flag_rate_from_the_card():
    from app.pages.inference.galaxies import galaxy_intro
    from astroml_core.registry import read_card

    foreign = read_card("galaxy_flow")[0]["foreign_test"]["foreign"]
    intro = galaxy_intro()
    assert f"{foreign['flag_rate']:.0%} were flagged" in intro and "left out" in intro
    assert ("confidently wrong" in intro) == (foreign["unflagged"]["omega_m"]["coverage_68"] < 0.6)


def test_the_galaxy_table_titles_every_column_with_its_unit_within_the_page():
    """Every property column says its unit ("log M_gas [M☉]"), and the columns share a width that fits the page
    at 1,280 px (the table used to run off its right edge, its last columns cut)."""
    from app.pages.inference.galaxies import galaxy_table_widget
    from astroml_core.tasks.inference import galaxy_table

    state = _state()
    widget = galaxy_table_widget()
    widget.value = galaxy_table(state.properties).to_pandas()
    columns = list(widget.value.columns)
    assert len(columns) == 12 and all(widget.titles[c].endswith("]") for c in columns[1:])
    assert widget.titles["log_V_max"] == "log V_max [km/s]"
    assert widget.layout == "fit_columns" and widget.width <= 1040
