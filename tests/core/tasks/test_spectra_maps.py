"""Survey maps and selections: embeddings place new spectra, lasso/box pick exactly the points inside,
exports carry the selection, datashaded images mark it."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astroml_core.data.spectra import open_spectra
from astroml_core.display.scatter import ScatterData, render
from astroml_core.sim.spectra import write_simulated
from astroml_core.tasks.spectra import (add_embedding, analyse, embed, place, points_in_box, points_in_polygon,
                                        selection_table)
from astroml_core.tasks.spectra.survey import binned_flux, cache_key, load_survey, save_survey


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    path = write_simulated(tmp_path_factory.mktemp("sp") / "s.fits", 3010, 1500, unexpected=0.05)
    return analyse(open_spectra(path))


def test_analysis_maps_every_spectrum(survey):
    n = len(survey.spectra)
    for method in ("vae", "pca"):
        assert survey.embeddings[method].coords.shape == (n, 2)
        assert np.isfinite(survey.embeddings[method].coords).all()


def test_umap_places_new_spectra_next_to_their_twins(survey):
    emb = add_embedding(survey, "umap")
    assert emb.coords.shape == (len(survey.spectra), 2)
    # the same spectra placed again land near where the map put them (transform, not a refit)
    new = place(emb, features=survey.result.features[:50])
    spread = np.ptp(emb.coords, axis=0).max()
    assert np.median(np.linalg.norm(new - emb.coords[:50], axis=1)) < 0.05 * spread
    assert np.array_equal(survey.embeddings["umap"].coords, emb.coords)


def test_pca_and_vae_place_exactly(survey):
    pca = survey.embeddings["pca"]
    assert np.allclose(place(pca, binned=binned_flux(survey.spectra)[:20]), pca.coords[:20], atol=1e-4)
    vae = survey.embeddings["vae"]
    assert np.allclose(place(vae, latent=survey.result.latent[:20]), vae.coords[:20])


def test_same_classes_cluster_in_the_umap(survey):
    coords = survey.embeddings.get("umap") or add_embedding(survey, "umap")
    coords = coords.coords
    truth = survey.true_class
    # nearest neighbour of a spectrum in the map shares its true class most of the time
    d = ((coords[:400, None, :] - coords[None, :, :]) ** 2).sum(-1)
    d[np.arange(400), np.arange(400)] = np.inf
    assert np.mean(truth[d.argmin(axis=1)] == truth[:400]) > 0.8


def test_box_and_lasso_select_exactly_the_points_inside():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, (5000, 2))
    box = points_in_box(pts, 0.5, -0.2, 0.1, -0.3)          # corners in any order
    assert set(box) == set(np.flatnonzero((pts[:, 0] >= -0.2) & (pts[:, 0] <= 0.5) & (pts[:, 1] >= -0.3) & (pts[:, 1] <= 0.1)))
    theta = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    lasso = points_in_polygon(pts, 0.5 * np.cos(theta), 0.5 * np.sin(theta))
    r = np.hypot(*pts.T)
    inside = set(np.flatnonzero(r < 0.49)), set(np.flatnonzero(r <= 0.5))
    assert inside[0] <= set(lasso) <= inside[1]
    assert len(points_in_polygon(pts, [0, 1], [0, 1])) == 0


def test_selection_table_exports_the_rows_asked_for(survey, tmp_path):
    index = np.array([5, 7, 11])
    t = selection_table(survey, index)
    assert list(t["id"]) == [survey.spectra.ids[i] for i in index]
    assert {"true_class", "predicted_class", "probability", "uncertainty", "anomaly", "z", "snr"} <= set(t.colnames)
    t.write(tmp_path / "sel.ecsv")
    back = Table.read(tmp_path / "sel.ecsv")
    assert list(back["predicted_class"]) == list(survey.result.pred_class[index])


def test_cached_analysis_comes_back_identical(survey, tmp_path):
    key = cache_key(survey.spectra.path, "abc")
    save_survey(survey, tmp_path, key)
    again = load_survey(survey.spectra, tmp_path, key)
    assert np.array_equal(again.result.probs, survey.result.probs)
    assert set(again.embeddings) == set(survey.embeddings)
    assert cache_key(survey.spectra.path, "other") != key


def test_render_draws_categories_and_marks_the_selection():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(20000, 2)).astype(np.float32)
    cats = np.where(pts[:, 0] > 0, "A", "B")
    data = ScatterData.build(pts, cats, {"v": pts[:, 1]})
    img = render(data, (-3, 3), (-3, 3), 200, 150)
    assert img.shape == (150, 200) and img.dtype == np.uint32
    rgba = img.view(np.uint8).reshape(150, 200, 4)
    left, right = rgba[:, :90][rgba[:, :90, 3] > 0], rgba[:, 110:][rgba[:, 110:, 3] > 0]
    assert len(left) and len(right) and not np.allclose(left[:, :3].mean(0), right[:, :3].mean(0))
    sel = np.flatnonzero((np.abs(pts[:, 0] - 2) < 0.2) & (np.abs(pts[:, 1]) < 0.2))
    marked = render(data, (-3, 3), (-3, 3), 200, 150, selected=sel).view(np.uint8).reshape(150, 200, 4)
    # selected points (x≈2 → column ≈ 166, y≈0 → row ≈ 75) are drawn black
    patch = marked[70:80, 160:172]
    assert ((patch[..., 3] > 0) & (patch[..., :3].max(axis=-1) < 40)).any()
    shaded = render(data, (-3, 3), (-3, 3), 200, 150, value="v", value_span=(-2, 2))
    assert (shaded.view(np.uint8).reshape(150, 200, 4)[..., 3] > 0).sum() > 1000


def test_unknown_embedding_is_refused(survey):
    with pytest.raises(ValueError, match="unknown embedding"):
        embed("isomap", features=survey.result.features)


def test_tsne_map_and_its_transform(survey):
    emb = add_embedding(survey, "tsne")
    assert emb.coords.shape == (len(survey.spectra), 2) and emb.axes == ("TSNE 1", "TSNE 2")
    new = place(emb, features=survey.result.features[:30])
    assert new.shape == (30, 2) and np.isfinite(new).all()
    # placed points land among the neighbours of their twins, not at random
    spread = np.ptp(emb.coords, axis=0).max()
    assert np.median(np.linalg.norm(new - emb.coords[:30], axis=1)) < 0.1 * spread


def test_too_few_spectra_for_a_neighbour_map_is_a_clear_error(survey):
    from astroml_core.errors import ShapeError

    with pytest.raises(ShapeError, match="at least 10 spectra"):
        embed("umap", features=survey.result.features[:9])


@pytest.mark.parametrize("method, n", [("umap", 12), ("umap", 50), ("tsne", 10), ("tsne", 50)])
def test_small_sets_get_a_neighbour_map_with_shrunken_neighbourhoods(survey, method, n):
    emb = embed(method, features=survey.result.features[:n])
    assert emb.coords.shape == (n, 2) and np.isfinite(emb.coords).all()
    assert np.ptp(emb.coords, axis=0).min() > 0                # spread out, not collapsed onto a point


@pytest.mark.parametrize("n", [1, 2, 5])
def test_pca_of_one_or_two_spectra_still_has_two_axes(survey, n):
    emb = embed("pca", binned=binned_flux(survey.spectra)[:n])
    assert emb.coords.shape == (n, 2) and np.isfinite(emb.coords).all()
