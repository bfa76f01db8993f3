"""Files of 1, 5 or 50 spectra get a map in the browser (VAE latent or PCA below ten spectra, UMAP
from ten), and nothing is logged as an error: the projection buttons never hold a choice the file
cannot have."""
from __future__ import annotations

import pytest

from astroml_core.sim.spectra import write_simulated
from tests.app.conftest import start_server, stop_server
from tests.app.test_cube_page import text, wait_until

pytestmark = pytest.mark.browser

MAP = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const fig = doc && doc.get_model_by_name('embedding-figure');
  const src = doc && doc.get_model_by_name('embedding-hover-source');
  return fig && src ? [fig.title.text, src.data.x.length] : null;
}"""


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("small-sets")
    for n in (1, 5, 50):
        write_simulated(root / f"spectra_{n}.fits", 900 + n, n)
    proc, url = start_server(root)
    yield url, root
    stop_server(proc)


@pytest.mark.parametrize("n, projection", [(1, "VAE latent"), (5, "VAE latent"), (50, "UMAP")])
def test_a_small_file_gets_a_map_and_no_errors(small_server, page, n, projection):
    url, root = small_server
    page.goto(f"{url}/spectra?file=spectra_{n}.fits")
    noun = "spectrum" if n == 1 else "spectra"
    wait_until(lambda: f"{n} {noun} · classified" in text(page, ".spectra-status"), timeout=300,
               what="the file classified")          # the demo survey is analysed first
    title, points = wait_until(lambda: (m := page.evaluate(MAP)) and m[0].startswith(projection) and m,
                               timeout=180, what=f"the {projection} map")
    assert points == n
    page.wait_for_timeout(1000)
    log = next(root.glob("server-*.log")).read_text()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
