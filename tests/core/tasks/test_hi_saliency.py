"""What the HI U-Net looks at: for sources it detects in a held-out cube, integrated gradients sit on
the source's own voxels, not on the noise around them."""
from __future__ import annotations

import numpy as np
from astropy.wcs import WCS

from astroml_core.registry import load_model, read_card
from astroml_core.sim.hi import HICubeConfig, simulate_hi_cube
from astroml_core.tasks.hi import CubeGeometry
from astroml_core.tasks.hi.model import config_from_card, model_find
from astroml_core.tasks.hi.noise import normalise
from astroml_core.tasks.hi.saliency import cutout_attribution as source_attribution_cutout, source_attribution
from astroml_core.train.hi import HELD_OUT_SEEDS


def test_attribution_concentrates_inside_each_detected_source():
    model = load_model("hi_unet", "cpu")
    data, header, _ = simulate_hi_cube(HELD_OUT_SEEDS[0])
    geom = CubeGeometry(HICubeConfig().frequencies_hz, 2.8, 7.0, 7.0, 1.42040575177e9, WCS(header).celestial,
                        float("nan"))
    found, labels = model_find(data, geom, model, config_from_card(read_card("hi_unet")[0]))
    accepted = np.flatnonzero(np.asarray(found["accepted"]))[:4]
    assert len(accepted) >= 2
    norm, _ = normalise(data)
    ratios = []
    for k in accepted:
        mask = labels == int(found["id"][k]) + 1
        att, origin = source_attribution(model, norm, mask)
        inside = mask[tuple(slice(o, o + s) for o, s in zip(origin, att.shape))]
        assert inside.any() and (~inside).any()
        ratios.append(np.abs(att[inside]).mean() / np.abs(att[~inside]).mean())
        assert att[inside].sum() > 0                           # the source's own emission raised its probability
    assert min(ratios) > 3, ratios


def test_cutout_attribution_finds_the_source_and_attributes_inside_it():
    model = load_model("hi_unet", "cpu")
    data, header, truth = simulate_hi_cube(HELD_OUT_SEEDS[0])
    bright = truth[int(np.argmax(truth["line_flux_integral"]))]
    # the brightest source's voxel from its truth row: channel from frequency, pixel from the WCS
    cfg = HICubeConfig()
    chan = int(np.argmin(np.abs(cfg.frequencies_hz - bright["central_freq"].to_value("Hz"))))
    px, py = WCS(header).celestial.world_to_pixel_values(bright["ra"].to_value("deg"), bright["dec"].to_value("deg"))
    y, x = int(round(float(py))), int(round(float(px)))
    c0, y0, x0 = max(0, chan - 24), max(0, y - 24), max(0, x - 24)
    block = data[c0:chan + 24, y0:y + 24, x0:x + 24]
    mask, att = source_attribution_cutout(model, block, (chan - c0, y - y0, x - x0))
    assert mask.sum() > 10 and att.shape == block.shape
    assert np.abs(att[mask]).mean() > 3 * np.abs(att[~mask]).mean()
