"""Issue 34's spectra-page bugs, headless: a map still being computed is never shown as if it were the chosen
one (the map on screen is greyed and titled as the previous map, with the new map's own progress), the
selection is stacked in the rest frame (observed frame, said so, without redshifts), and counts read
"1 spectrum" / "2 spectra"."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from astroml_core.sim.spectra import DEMO_SPECTRA, write_simulated

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return write_simulated(tmp_path_factory.mktemp("spectra") / DEMO_SPECTRA, 3021, 600, unexpected=0.03)


@pytest.fixture
def page(data_root, demo_file):
    (data_root / "demo" / DEMO_SPECTRA).symlink_to(demo_file)
    from app.pages.spectra import SpectraPage

    return SpectraPage()


def test_a_map_still_computing_leaves_the_shown_one_greyed_and_titled_with_the_new_maps_progress(page, monkeypatch):
    from astroml_core.tasks.spectra import Embedding
    from astroml_core.tasks.spectra.embed import LABELS

    assert page.map.fig.title.text == LABELS["umap"]
    umap = page.survey.embeddings["umap"].coords
    asked = []
    monkeypatch.setattr(page, "_request_embedding", asked.append)           # the t-SNE job: still running
    monkeypatch.delitem(page.survey.embeddings, "tsne", raising=False)
    page.projection = "t-SNE"
    assert asked == ["tsne"]
    title = page.map.fig.title.text
    assert title.startswith(f"Still showing {LABELS['umap']}") and "computing t-SNE" in title   # not "t-SNE" nor VAE
    assert page.map.fig.xaxis.axis_label == "UMAP 1"
    assert page.map._drawn.glyph.global_alpha < 0.5 and page.coords is umap                     # greyed, same points
    page._map_progress("tsne", 0.43, "t-SNE of 600 spectra: optimisation: iteration 300 of 750")
    assert page.map.fig.title.text.endswith("computing t-SNE… 43%") and page.progress.value == 43
    assert "iteration 300 of 750… 43%" in page.status.object
    page._map_progress("umap", 0.9, "UMAP: layout: epoch 450 of 500")     # another map's job: not this title
    assert page.map.fig.title.text.endswith("43%")
    from astroml_core.errors import ShapeError

    page._map_failed("tsne", ShapeError("too few spectra today"))               # a failed job: said on the map too
    assert page.map.fig.title.text.endswith("· t-SNE could not be made") and page.map._drawn.glyph.global_alpha < 0.5
    assert "too few spectra today" in page.banner.error_text
    coords = np.random.default_rng(0).normal(size=umap.shape).astype(np.float32)
    monkeypatch.setitem(page.survey.embeddings, "tsne", Embedding("tsne", coords, ("TSNE 1", "TSNE 2")))
    page._embedding_ready("tsne")
    assert page.map.fig.title.text == LABELS["tsne"] and page.map._drawn.glyph.global_alpha == 1.0
    assert page.coords is coords and page.map.fig.xaxis.axis_label == "TSNE 1"


def test_the_store_passes_the_maps_own_progress_on(page):
    from astroml_core.tasks.spectra.store import add_map
    from astroml_core.tasks.spectra.survey import Survey

    survey = Survey(page.survey.spectra, page.survey.result, dict(page.survey.embeddings))
    heard = []
    add_map(survey, "tsne", progress=lambda f, m: heard.append((f, m)))
    assert "tsne" in survey.embeddings
    assert heard[0][1].startswith("t-SNE of 600 spectra: affinities")
    assert heard[-1][1] == "t-SNE of 600 spectra: optimisation: iteration 750 of 750" and heard[-1][0] > 0.98
    assert len({round(f, 2) for f, _ in heard}) > 20


def _spread_in_z(page, n: int = 12) -> np.ndarray:
    """``n`` star-forming galaxies from the lowest to the highest redshift of the set."""
    z = np.asarray(page.survey.spectra.meta["z"], float)
    sf = np.flatnonzero(page.survey.true_class == "GALAXY_STARFORMING")
    return sf[np.argsort(z[sf])][np.linspace(0, len(sf) - 1, n).astype(int)]


def test_a_selection_across_redshifts_is_stacked_in_the_rest_frame(page):
    from app.pages.spectra.spectra_stack import LINES

    pick = _spread_in_z(page)
    z = np.asarray(page.survey.spectra.meta["z"], float)[pick]
    assert z.max() - z.min() > 0.1
    page.select(pick, "test")
    assert page.stack.fig.xaxis.axis_label == "Rest wavelength (Å, vacuum)" == page.saliency.fig.xaxis.axis_label
    assert "rest frame" in page.stack.fig.title.text
    xs = page.stack.source.data["xs"]
    assert page.stack.labels.data["text"][0] == "median of the selection"
    observed = page.survey.spectra.wavelength[: len(xs[1]) * 4].reshape(-1, 4).mean(axis=1)
    # each drawn spectrum sits at its own rest wavelength (rows drawn bottom-up: the last drawn is the first shown)
    for x, i in zip(xs[1:][::-1], page.selection[: page.stack.max_rows]):
        assert np.allclose(x, observed / (1 + page.survey.spectra.meta["z"][i]), rtol=1e-6)
    assert set(page.stack.lines.data["x"]) <= set(LINES.values())           # lines at rest wavelengths
    # the stacked median keeps Hα: its peak there stands well above the median's continuum
    median = np.asarray(page.stack.source.data["ys"][0], float)
    near = np.abs(np.asarray(xs[0]) - LINES["Hα"]) < 8
    assert near.any() and np.nanmax(median[near]) > np.nanmedian(median) + 0.5


def test_without_redshifts_the_stack_says_observed_frame(page, monkeypatch):
    pick = _spread_in_z(page)
    z = np.asarray(page.survey.spectra.meta["z"], float).copy()
    z[pick[3]] = np.nan
    monkeypatch.setitem(page.survey.spectra.meta, "z", z)
    page.select(pick, "test")
    assert page.stack.fig.xaxis.axis_label == "Observed wavelength (Å, vacuum)"
    assert "observed frame (1 spectrum of 12 without a redshift)" in page.stack.fig.title.text
    monkeypatch.delitem(page.survey.spectra.meta, "z")
    page.select(pick[:2], "test")
    assert "2 of 2 spectra selected, in the observed frame (no redshifts in this file)" == page.stack.fig.title.text


def test_counts_are_singular_for_one(page):
    page.select(np.array([5]), "one")
    assert page.stack.fig.title.text.startswith("1 of 1 spectrum selected")
    assert "<b>1 spectrum selected</b>" in page.selection_info.object
    from app.pages.spectra.spectra_stack import count

    assert (count(1), count(2), count(1200)) == ("1 spectrum", "2 spectra", "1,200 spectra")


def test_no_count_on_the_spectra_page_is_written_with_a_fixed_plural():
    """A number formatted straight before "spectra" reads "1 spectra" for one: such counts go through count()."""
    files = [*(str(p.relative_to(ROOT)) for p in sorted((ROOT / "app/pages/spectra").glob("*.py"))),
             "astroml_core/tasks/spectra/store.py"]
    fixed = re.compile(r"\{[^{}]*\}\s+(?:selected\s+)?spectr(?:a|um)\b")
    found = [(f, m.group(0)) for f in files if (ROOT / f).exists()
             for m in fixed.finditer((ROOT / f).read_text())]
    assert found == []


def test_a_map_is_made_on_the_background_queue_through_the_apps_job_runner(page, monkeypatch):
    """Issue 33: the page has no poll loop of its own; a UMAP or t-SNE map (a minute of CPU) is a keyed job of
    the app's runner on the background queue, so it never holds up the model's queue (saliency, detection)."""
    import app.components.jobs as jobs
    import app.pages.spectra.page as spectra_page
    from astroml_core.service.worker import InferenceService, background

    asked = []
    monkeypatch.setattr(spectra_page, "start_job", lambda fn, *args, **kw: asked.append((fn, args, kw)))
    page._request_embedding("tsne")
    (fn, args, kw), = asked
    assert fn is spectra_page.add_map and args == (page.survey, "tsne") and kw["queue"] is background()
    assert kw["key"][0] == "spectra map" and kw["key"][-1] == "tsne"
    # served, the runner submits to the queue it is given
    monkeypatch.setattr(jobs, "served", lambda: True)
    monkeypatch.setattr(jobs.pn.state, "execute", lambda callback: None)
    queue = InferenceService()
    handle = jobs.start_job(lambda progress: 7, name="toy", then=print, on_error=print, queue=queue)
    assert handle.job._service is queue and handle.job.future.result(timeout=30) == 7


def test_a_map_made_for_a_set_no_longer_open_is_ignored_and_a_shared_one_adopted(page, monkeypatch):
    from types import SimpleNamespace

    from astroml_core.tasks.spectra.survey import Survey

    monkeypatch.delitem(page.survey.embeddings, "tsne", raising=False)
    vae = page.survey.embeddings["vae"]
    elsewhere = SimpleNamespace(spectra=SimpleNamespace(path=Path("/elsewhere.fits")), embeddings={"tsne": vae})
    page._embedding_ready("tsne", elsewhere)
    assert "tsne" not in page.survey.embeddings
    shared = Survey(page.survey.spectra, page.survey.result, {"tsne": vae})      # another session's copy
    page._embedding_ready("tsne", shared)
    assert page.survey.embeddings["tsne"] is vae
