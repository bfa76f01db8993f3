"""The spectra page in real Chromium: draw a lasso with the mouse over the UMAP map and get exactly the
spectra inside it in the table and the spectra panel; click a confusion-matrix cell and get its count."""
from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from tests.app.test_cube_page import MODEL_DATA, TO_SCREEN, text, wait_until

pytestmark = pytest.mark.browser

TABLE_IDS = """(cls) => {
  for (const m of Bokeh.documents[0]._all_models.values())
    if (m.type.endsWith('DataTabulator') && (m.css_classes || []).includes(cls)) return Array.from(m.source.data.id || []);
  return null;
}"""
CELL_SCREEN = """([name, xf, yf]) => {
  const fig = Bokeh.documents[0].get_model_by_name(name);
  const v = Bokeh.index.find_one(fig);
  const r = v.canvas_view.el.getBoundingClientRect();
  return [r.left + v.frame.x_scale.compute(fig.x_range.synthetic(xf)),
          r.top + v.frame.y_scale.compute(fig.y_range.synthetic(yf))];
}"""


MAP_READY = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const fig = doc && doc.get_model_by_name('embedding-figure');
  return !!fig && fig.title.text.startsWith('UMAP') && doc.get_model_by_name('embedding-hover-source').data.x.length > 100;
}"""
MATRIX_READY = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const src = doc && doc.get_model_by_name('confusion-source');
  return !!src && src.data.count.length > 0;
}"""


TITLE_STARTS = """(prefix) => {
  const d = window.Bokeh && Bokeh.documents[0];
  const f = d && d.get_model_by_name('embedding-figure');
  return !!f && f.title.text.startsWith(prefix);
}"""


def _map_ready(page) -> bool:
    return page.evaluate(MAP_READY)


def _umap_coords(root) -> tuple[np.ndarray, np.ndarray]:
    """The served survey's UMAP coordinates and ids, from the analysis the server cached."""
    from astroml_core.data.spectra import open_spectra

    saved = max((root / "cache").glob("spectra-*.pkl"), key=lambda p: p.stat().st_mtime)
    with open(saved, "rb") as fh:
        emb = pickle.load(fh)["embeddings"]["umap"]
    return emb.coords, open_spectra(root / "demo" / "spectra_demo.fits").ids


def _to_data(page, sx: float, sy: float, a, b) -> tuple[float, float]:
    """Invert the figure's linear data → screen map from two reference points a, b (data, screen)."""
    (dxa, dya), (sxa, sya) = a
    (dxb, dyb), (sxb, syb) = b
    return dxa + (sx - sxa) * (dxb - dxa) / (sxb - sxa), dya + (sy - sya) * (dyb - dya) / (syb - sya)


def test_lasso_on_the_map_selects_exactly_the_spectra_inside(page, server):
    url, root = server
    page.goto(url + "/spectra")
    wait_until(lambda: _map_ready(page), timeout=240, what="the UMAP map")
    coords, ids = _umap_coords(root)
    ref = [((0.0, 0.0), page.evaluate(TO_SCREEN, ["embedding-figure", 0.0, 0.0])),
           ((1.0, 1.0), page.evaluate(TO_SCREEN, ["embedding-figure", 1.0, 1.0]))]
    # a rectangle around the densest part of the map, drawn as a lasso path along its edges
    lo, hi = np.percentile(coords, [35, 65], axis=0)
    (sx0, sy1), (sx1, sy0) = (page.evaluate(TO_SCREEN, ["embedding-figure", float(lo[0]), float(lo[1])]),
                              page.evaluate(TO_SCREEN, ["embedding-figure", float(hi[0]), float(hi[1])]))
    sx0, sy0, sx1, sy1 = round(sx0), round(sy0), round(sx1), round(sy1)
    page.wait_for_timeout(1500)                 # a person does not draw in the first instant after load either
    for attempt in range(3):                    # a drag that lands while the page is still settling is redrawn
        page.mouse.move(sx0, sy0)
        page.mouse.down()
        for x, y in ((sx1, sy0), (sx1, sy1), (sx0, sy1), (sx0, sy0 + 1)):
            page.mouse.move(x, y, steps=12)
        page.mouse.up()
        try:
            info = wait_until(lambda: re.search(r"([\d,]+) spectra selected", text(page, ".selection-info")),
                              timeout=10, what="the selection count")
            break
        except AssertionError:
            if attempt == 2:
                raise
    count = int(info.group(1).replace(",", ""))
    # points inside the rectangle shrunk / grown by 1.5 screen pixels bound the selection
    def inside(pad: float) -> set:
        (xa, ya) = _to_data(page, sx0 + pad, sy1 - pad, *ref)
        (xb, yb) = _to_data(page, sx1 - pad, sy0 + pad, *ref)
        sel = (coords[:, 0] >= xa) & (coords[:, 0] <= xb) & (coords[:, 1] >= ya) & (coords[:, 1] <= yb)
        return set(ids[sel])
    inner, outer = inside(1.5), inside(-1.5)
    assert len(inner) > 20 and len(inner) <= count <= len(outer)
    table = set(wait_until(lambda: (v := page.evaluate(TABLE_IDS, "selection-table")) and len(v) == count and v,
                           what="the table filled"))
    assert inner <= table <= outer
    # the stack redraws after the table (the class medians it showed before stay until then)
    labels = wait_until(lambda: (v := page.evaluate(MODEL_DATA, ["spectra-stack-labels", "text"]))
                        and v[0] == "median of the selection" and v, what="the selection's stack")
    assert len(labels) == min(count, 8) + 1
    assert {t.split(" · ")[0] for t in labels[1:]} <= table
    assert len(page.evaluate(MODEL_DATA, ["spectra-stack-source", "xs"])) == len(labels)


def test_confusion_cell_click_selects_that_cells_spectra(page, server):
    url, _ = server
    page.goto(url + "/spectra")
    wait_until(lambda: page.evaluate(MATRIX_READY), timeout=240, what="the matrix")
    page.locator(".spectra-tabs .bk-tab").first.click()
    counts = page.evaluate(MODEL_DATA, ["confusion-source", "count"])
    true = page.evaluate(MODEL_DATA, ["confusion-source", "true"])
    pred = page.evaluate(MODEL_DATA, ["confusion-source", "pred"])
    off = [k for k in range(len(counts)) if true[k] != pred[k] and counts[k] > 0]
    k = max(off, key=lambda k: counts[k]) if off else int(np.argmax(counts))
    sx, sy = page.evaluate(CELL_SCREEN, ["confusion-figure", pred[k], true[k]])
    page.mouse.click(sx, sy)
    info = wait_until(lambda: re.search(r"([\d,]+) spectra selected \(confusion cell", text(page, ".selection-info")),
                      what="the cell's selection")
    assert int(info.group(1).replace(",", "")) == counts[k]
    ids = wait_until(lambda: (v := page.evaluate(TABLE_IDS, "selection-table")) and len(v) == counts[k] and v,
                     what="the table filled")
    assert len(ids) == counts[k]


def test_a_link_reopens_the_projection_and_colouring(browser, server):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 1250})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = ctx.new_page()
    page.goto(url + "/spectra?projection=PCA&colour=anomaly%20score")
    wait_until(lambda: page.evaluate(TITLE_STARTS, "PCA"), timeout=240, what="the PCA map from the link")
    assert "anomaly score" in text(page, ".spectra-legend")
    page.locator(".projection-choice .bk-btn", has_text="VAE latent").click()
    wait_until(lambda: page.evaluate(TITLE_STARTS, "VAE"), what="the VAE map")
    page.locator(".copy-link button").click()
    wait_until(lambda: "copied" in page.locator(".copy-link button").inner_text(), what="the copy")
    link = page.evaluate("navigator.clipboard.readText()")
    assert "projection=VAE+latent" in link and "colour=anomaly+score" in link and "file=demo" in link
    again = ctx.new_page()
    again.goto(link)
    wait_until(lambda: again.evaluate(TITLE_STARTS, "VAE"), timeout=60, what="the VAE map from the copied link")
    ctx.close()


def test_plots_switch_to_the_svg_backend_for_slides(server, page):
    url, _ = server
    page.goto(url + "/spectra")
    wait_until(lambda: _map_ready(page), timeout=300, what="the UMAP map")
    assert page.locator(".bk-tool-icon-save").count() >= 2          # every plot has its save tool
    backends = ("() => Array.from(Bokeh.documents[0]._all_models.values()).filter(m => m.type === 'Figure')"
                ".map(f => f.output_backend)")
    assert set(page.evaluate(backends)) == {"canvas"}
    assert _saved(page, "map").startswith(b"\x89PNG")
    page.locator(".figure-svg input").check()
    wait_until(lambda: set(page.evaluate(backends)) == {"svg"}, what="every figure on SVG")
    svg = _saved(page, "map_for_slides")
    assert svg.startswith(b"<svg") and b"<text" in svg         # vector, with its axis labels as text
    page.locator(".figure-svg input").uncheck()
    wait_until(lambda: set(page.evaluate(backends)) == {"canvas"}, what="every figure back on canvas")
    assert _saved(page, "map_again").startswith(b"\x89PNG")


def _saved(page, name: str) -> bytes:
    """Press the first plot's save tool, give the file name it asks for, return the downloaded bytes.
    (A click that lands while the plots redraw after a backend switch is lost: press again, as a user would.)"""
    from pathlib import Path

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        page.once("dialog", lambda dialog: dialog.accept(name))
        try:
            with page.expect_download(timeout=10_000) as download:
                page.locator(".bk-tool-icon-save").first.click()
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    assert download.value.suggested_filename.startswith(name)
    return Path(download.value.path()).read_bytes()
