"""The deblending page's state class alone (no widgets): what a newly opened field offers, which method it
shows, what a click on a pixel selects, and the texts and file names that follow from a run."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from astroml_core.sim.blends import BlendConfig, write_blend_field
from astroml_core.tasks.deblend import deblend
from astroml_core.tasks.deblend.field import Field, open_field


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    path = tmp_path_factory.mktemp("blends") / "field.fits"
    write_blend_field(path, 5, path.with_name("field_truth.ecsv"), BlendConfig(nx=64, ny=64, n_groups=3))
    return open_field(path)


def _state(field):
    from app.pages.deblend.state import DeblendState

    state = DeblendState()
    state.load(field)
    return state


def test_a_four_band_field_offers_its_bands_and_the_network(field):
    state = _state(field)
    assert state.param.view.objects == ["RGB", "g", "r", "i", "z"] and state.band == "r" and state.method == "model"
    assert state.result is None and not state.deblended and state.masks() is None
    assert state.ready_text() == "Press Deblend"
    assert "**Size** 64 × 64 px" in state.info_markdown() and f"truth: {len(field.truth)} galaxies" in state.info_markdown()
    rgb = state.rgb()
    assert rgb.shape == (64, 64) and rgb.dtype == np.uint32
    state.view = "g"
    assert not np.array_equal(state.rgb(), rgb)                 # one band, not the composite


def test_a_one_band_field_shows_sep_and_says_why(field):
    image = field.image
    one = Field(replace(image, data=image.data[1:2], bands=("band1",), psf_fwhm_arcsec=image.psf_fwhm_arcsec[1:2],
                        sky_sigma=image.sky_sigma[1:2], flux_scale=image.flux_scale[1:2], noise=None),
                field.sigma[1:2], None)
    state = _state(one)
    assert state.method == "sep" and state.band == "band1" and state.param.view.objects == ["RGB", "band1"]
    assert "the network needs g, r, i, z" in state.ready_text()


def test_results_a_click_and_the_exports_follow_the_shown_method(field):
    state = _state(field)
    state.take_results({"sep": deblend(field.image, "sep")})
    assert state.method == "sep" and state.deblended              # the network did not run: sep is shown
    catalogue, segmap = state.result.catalogue, state.result.segmap
    assert state.found_text() == f"Sources found: sep {len(catalogue)}"
    y, x = np.argwhere(segmap == 2)[0]
    assert state.source_at(float(x), float(y)) == 1
    assert state.source_at(-5.0, 3.0) is None and state.source_at(*np.argwhere(segmap == 0)[0][::-1].astype(float)) is None
    state.selected = 1
    assert state.selection_html().startswith(f"<b>Source 1</b> (sep) at pixel ({catalogue['x'][1]:.1f}")
    cut, (y0, x0) = state.residual_stamp()
    assert cut.shape[1:] == (64, 64) and np.isfinite(cut).all()
    assert state.export_names() == ["field_sep_sources.ecsv", "field_sep_sources.vot", "field_sep_sources.reg",
                                    "field_sep_masks.fits"]
    assert state.export(".reg").decode().count("ellipse") == len(np.unique(segmap[segmap > 0]))
    joined = state.joined()
    assert "truth_r" in joined.colnames and "the truth" in state.caption_html(joined)
    state.show_masks = False
    assert state.masks() is None
