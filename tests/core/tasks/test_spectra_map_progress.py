"""UMAP and t-SNE maps report their progress from the computation itself (issue 34: t-SNE sat at 5% for a
minute): t-SNE its affinities and every 25 optimisation iterations, UMAP its layout epochs; the t-SNE map
run phase by phase is the same map openTSNE's own ``fit`` makes."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from astroml_core.tasks.spectra import embed


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 6, (4, 16))
    return (centres[rng.integers(0, 4, 300)] + rng.normal(0, 1, (300, 16))).astype(np.float32)


def _heard(method: str, features) -> tuple[list[tuple[float, str]], np.ndarray]:
    heard: list[tuple[float, str]] = []
    emb = embed(method, features=features, progress=lambda f, m: heard.append((f, m)))
    again = pickle.loads(pickle.dumps(emb))              # the survey cache pickles maps: no progress hook kept
    assert np.array_equal(again.coords, emb.coords)
    return heard, emb.coords


def test_tsne_reports_affinities_then_each_optimisation_step(features):
    heard, coords = _heard("tsne", features)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and 0 < fractions[0] < 0.1 and fractions[-1] >= 0.98
    iterations = [m for _, m in heard if m.startswith("optimisation: iteration")]
    assert len(iterations) >= 750 // 25                     # 250 exaggerated + 500 plain, every 25
    assert "iteration 250 of 750" in " ".join(iterations) and iterations[-1] == "optimisation: iteration 750 of 750"
    assert heard[0][1].startswith("affinities")
    assert len({round(f, 2) for f in fractions}) > 20        # it moves, not one number for a minute
    assert coords.shape == (300, 2) and np.isfinite(coords).all()


def test_tsne_phase_by_phase_is_opentsnes_fit(features):
    from openTSNE import TSNE

    from astroml_core.tasks.spectra.embed import _standardise

    x, _ = _standardise(features)
    reference = np.asarray(TSNE(perplexity=30, n_jobs=2, random_state=0, verbose=False).fit(x), np.float32)
    _, coords = _heard("tsne", features)
    assert np.allclose(coords, reference, atol=1e-3)


def test_umap_reports_its_layout_epochs(features):
    heard, coords = _heard("umap", features)
    epochs = [(f, m) for f, m in heard if m.startswith("layout: epoch")]
    assert len(epochs) >= 2 and epochs[-1][1].split(" of ")[0].split()[-1] == epochs[-1][1].split(" of ")[1]
    assert epochs[-1][0] >= 0.98 and [f for f, _ in epochs] == sorted(f for f, _ in epochs)
    assert coords.shape == (300, 2)
