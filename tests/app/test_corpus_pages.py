"""Every real file of the corpus (tests/corpus/files.py) opens on its page, without a browser: images on the
deblending page, spectra on the spectra page (classified), or the page shows the reader's refusal and keeps
what it had. Cubes are checked the same way in test_cube_repairs.py."""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from app.components.safe_text import html_text
from astroml_core.data.multiband import open_multiband
from astroml_core.sim.blends import DEMO_BLENDS, DEMO_BLENDS_TRUTH, BlendConfig, write_blend_field
from astroml_core.sim.spectra import DEMO_SPECTRA, write_simulated
from tests.corpus.files import by_kind, corpus_path

REFUSED_SPECTRA = {"alfalfa_hi": "radio", "gama_table": "Spectrum formats"}     # sauron_ngc4550 (10%): UNKNOWN, issue 31


def _copy_in(root, key):
    """The corpus file copied under the page's data root (pages open nothing outside it)."""
    src = corpus_path(key)
    dst = root / "corpus" / src.name
    dst.parent.mkdir(exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def deblend_page(data_root):
    write_blend_field(data_root / "demo" / DEMO_BLENDS, 11, data_root / "demo" / DEMO_BLENDS_TRUTH,
                      BlendConfig(nx=96, ny=96, n_groups=4))
    from app.pages.deblend import DeblendPage

    return DeblendPage()


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return write_simulated(tmp_path_factory.mktemp("spectra") / DEMO_SPECTRA, 3020, 300, unexpected=0.0)


@pytest.fixture
def spectra_page(data_root, small_demo):
    (data_root / "demo" / DEMO_SPECTRA).symlink_to(small_demo)
    from app.pages.spectra import SpectraPage

    return SpectraPage()


@pytest.mark.parametrize("key", [f.key for f in by_kind("image")])
def test_every_corpus_image_opens_on_the_deblending_page(deblend_page, data_root, key):
    path = _copy_in(data_root, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        deblend_page.open(path, f"corpus: {path.name}")
        expected = open_multiband(path)
    assert deblend_page.banner.error_text == ""
    assert deblend_page.image.bands == expected.bands
    assert np.array_equal(np.isnan(deblend_page.image.data), np.isnan(expected.data))
    for note in expected.notes:                           # every assumption is on the page, escaped
        assert html_text(note)[:40] in deblend_page.notes.object


@pytest.mark.parametrize("key", [f.key for f in by_kind("spectrum") + by_kind("table")])
def test_every_corpus_spectrum_opens_classified_or_shows_the_refusal(spectra_page, data_root, key):
    before = spectra_page.survey
    path = _copy_in(data_root, key)
    spectra_page.open(path, f"corpus: {path.name}")
    if key in REFUSED_SPECTRA:
        shown = spectra_page.banner.error_text + spectra_page.notes.object
        assert REFUSED_SPECTRA[key] in shown and spectra_page.survey is before
        return
    assert spectra_page.banner.error_text == ""
    survey = spectra_page.survey
    assert survey is not before and survey.spectra.path is not None
    probabilities = np.asarray(survey.result.probs)
    assert probabilities.shape[0] == len(survey.spectra) >= 1 and np.isfinite(probabilities).all()
    assert "How this file was read" in spectra_page.notes.object
