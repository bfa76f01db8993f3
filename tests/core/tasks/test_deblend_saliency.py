"""What the deblending network looks at: for blended galaxies of held-out fields (seeds never used in
training), the splitter's integrated gradients sit on the galaxy's own pixels, not on its neighbours'."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.metrics.deblend import match_sources, truth_segmentation
from astroml_core.registry import load_model
from astroml_core.sim.blends import simulate_blends
from astroml_core.tasks.deblend.classic import THRESH
from astroml_core.tasks.deblend.detection import band_noise
from astroml_core.tasks.deblend.model import STAMP, cut_stamp, model_deblend, scaled_bands, splitter_input
from astroml_core.tasks.deblend.saliency import splitter_attribution
from astroml_core.train.deblend import HELD_OUT_SEEDS

BANDS = ("g", "r", "i", "z")


@pytest.fixture(scope="module")
def blended():
    """(ratio own / neighbours, ratio own / sky) of per-pixel |attribution| for matched blended galaxies."""
    model = load_model("deblend_unet", "cpu")
    out = []
    for seed in HELD_OUT_SEEDS[:6]:
        field = simulate_blends(seed)
        found = model_deblend(field.images, BANDS, model)
        sigma = band_noise(field.images)
        truth_seg = truth_segmentation((field.isolated / sigma[None, :, None, None]).sum(axis=1),
                                       THRESH * np.sqrt(len(BANDS)))
        centres = np.column_stack([found.catalogue["x"], found.catalogue["y"]])
        for f, t in match_sources(field.truth, found.catalogue).items():
            if field.truth["blendedness"][t] <= 0.1:
                continue
            att, (y0, x0) = splitter_attribution(model, field.images, centres, f)
            seg, _ = cut_stamp(truth_seg, float(centres[f, 0]), float(centres[f, 1]))
            own, neighbours = seg == t + 1, (seg > 0) & (seg != t + 1)
            if own.any() and neighbours.any():
                a = np.abs(att).sum(axis=0)
                out.append((a[own].mean() / a[neighbours].mean(), a[own].mean() / a[seg == 0].mean()))
    return np.array(out)


def test_the_splitter_looks_at_its_own_galaxy_not_its_neighbours(blended):
    assert len(blended) >= 8
    assert np.median(blended[:, 0]) > 4, blended[:, 0]
    assert blended[:, 0].min() > 1, blended[:, 0]   # every one: its own pixels weigh more than its neighbours'
    assert np.median(blended[:, 1]) > 20        # and far more than on the empty sky around it


def test_attributions_add_up_to_the_predicted_flux():
    """Integrated gradients' completeness: the sum is F(stamp) − F(empty sky), F the predicted flux in σ."""
    import torch

    model = load_model("deblend_unet", "cpu")
    field = simulate_blends(HELD_OUT_SEEDS[0])
    found = model_deblend(field.images, BANDS, model)
    centres = np.column_stack([found.catalogue["x"], found.catalogue["y"]])
    att, origin = splitter_attribution(model, field.images, centres, 0, steps=64)
    _, scaled = scaled_bands(field.images)
    x_in, origin_in = splitter_input(scaled, centres, 0)
    empty = x_in.copy()
    empty[:len(BANDS)] = 0
    with torch.inference_mode():
        f = [float(model.split(torch.from_numpy(a)[None]).sum()) for a in (x_in, empty)]
    assert att.shape == (len(BANDS), STAMP, STAMP) and origin == tuple(origin_in)
    assert att.sum() == pytest.approx(f[0] - f[1], rel=0.05)
