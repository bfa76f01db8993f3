"""The spectra store's keyed jobs: the server's warm-up analyses a file and makes its UMAP with the keys the
page asks with, so the first visitor shares those runs instead of starting their own."""
from __future__ import annotations

from astroml_core.service.worker import background, service
from astroml_core.sim.spectra import ensure_demo_spectra
from astroml_core.tasks.spectra.store import map_key, survey_key, warm


def _never(*args, progress):
    raise AssertionError("a shared job must not run again")


def test_warm_up_results_are_shared_with_the_page_s_keys(data_root):
    path = ensure_demo_spectra(data_root / "demo", n=300)
    survey = warm(path).future.result(timeout=900)
    assert "umap" in survey.embeddings and len(survey.spectra) == 300
    again = service().submit(_never, path, name="spectra analysis", key=survey_key(path)).future.result(timeout=60)
    assert again is survey
    mapped = background().submit(_never, survey, "umap", key=map_key(path, "umap")).future.result(timeout=60)
    assert mapped is survey


def test_keys_name_the_file_version_and_the_method(tmp_path):
    path = tmp_path / "s.fits"
    assert survey_key(path) is None and map_key(None, "umap") is None       # no file: nothing to share
    path.write_bytes(b"x")
    assert survey_key(path)[1:] == map_key(path, "tsne")[1:-1] and map_key(path, "tsne")[-1] == "tsne"
    assert map_key(path, "umap") != map_key(path, "tsne")
