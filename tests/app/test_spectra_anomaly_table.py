"""The spectra page's "unexpected" list in real Chromium at 1400 px (issue 34: its columns were cut): every
column and every value inside the table, no side scroll; a click on a row still opens that spectrum."""
from __future__ import annotations

import pytest

from tests.app.test_cube_page import text, wait_until
from tests.app.test_spectra_page import TABLE_IDS

pytestmark = pytest.mark.browser

# the table's box and its scroll, its columns' titles, and whatever is wider than the box that shows it
GEOMETRY = """t => {
  const h = t.querySelector('.tabulator-tableholder'), r = t.getBoundingClientRect();
  const shown = e => e.offsetWidth > 0;
  const cols = Array.from(t.querySelectorAll('.tabulator-col')).filter(shown)
                    .filter(c => c.textContent.trim() !== '');
  const cells = Array.from(t.querySelectorAll('.tabulator-row .tabulator-cell')).filter(shown);
  const outside = e => { const b = e.getBoundingClientRect(); return b.left < r.left - 0.5 || b.right > r.right + 0.5; };
  const cut = e => e.scrollWidth > e.clientWidth + 1;
  return {scroll: h.scrollWidth, client: h.clientWidth, right: r.right, window: innerWidth,
          titles: cols.map(c => c.querySelector('.tabulator-col-title').textContent.trim()),
          cols_outside: cols.filter(outside).map(c => c.textContent.trim()),
          titles_cut: cols.map(c => c.querySelector('.tabulator-col-title')).filter(cut).map(e => e.textContent),
          cells_outside: cells.filter(outside).map(c => c.textContent),
          cells_cut: cells.filter(cut).map(c => c.textContent), cells: cells.length};
}"""


def _ids(page, css_class: str) -> list | None:
    """The ids in the table with ``css_class``, None while the page has no Bokeh document yet."""
    try:
        return page.evaluate(TABLE_IDS, css_class)
    except Exception:
        return None


def test_every_column_of_the_unexpected_list_is_readable_in_a_1400_px_window(page, server):
    url, _ = server
    assert page.viewport_size["width"] == 1400
    page.goto(url + "/spectra")
    ids = wait_until(lambda: _ids(page, "anomaly-table"), timeout=240, what="the unexpected list")
    page.get_by_text("The unexpected", exact=True).click()
    table = page.locator(".anomaly-table .tabulator")
    g = wait_until(lambda: (v := table.evaluate(GEOMETRY)) and v["client"] > 0 and v["cells"] and v,
                   what="the table laid out")
    assert g["titles"] == ["rank", "id", "anomaly", "predicted", "true"]
    assert g["cells"] >= 5 * 10                                       # a page of rows, every column
    assert g["scroll"] <= g["client"], g                              # nothing to scroll sideways to
    assert g["cols_outside"] == [] and g["cells_outside"] == [], g
    assert g["titles_cut"] == [] and g["cells_cut"] == [], g          # no title or value cut inside its cell
    assert g["right"] <= g["window"], g
    # the list still does its job: a click on the third row selects that spectrum
    page.locator(".anomaly-table .tabulator-row").nth(2).click()
    wait_until(lambda: "1 spectrum selected" in text(page, ".selection-info"), what="the row's spectrum selected")
    assert wait_until(lambda: page.evaluate(TABLE_IDS, "selection-table"), what="the selection table") == [ids[2]]
