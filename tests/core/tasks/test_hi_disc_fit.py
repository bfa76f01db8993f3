"""The disc fit: noiseless sources recovered, a source cut by the cube's edge gets its whole flux back."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs import WCS

from astroml_core.sim.hi import small_config
from astroml_core.tasks.hi import measure_sources
from astroml_core.tasks.hi.disc_fit import fit_sources, profile_w20
from tests.conftest import hi_geometry, noiseless_hi_source

BRIGHT = small_config(nx=96, ny=96, n_channels=192, log_mhi_min=9.8, noise_jy_950=0.0, noise_jy_1150=0.0,
                      particles=20000)


def _one_source(seed):
    return noiseless_hi_source(seed, BRIGHT)


@pytest.mark.parametrize("seed", [51, 134, 280])
def test_disc_fit_recovers_a_noiseless_source(seed):
    data, labels, header, true = _one_source(seed)
    geom = hi_geometry(BRIGHT, header)
    got = fit_sources(measure_sources(data, labels, geom), data, labels, geom)[0]
    assert got["disc_fit"]
    assert float(got["line_flux_integral"] / true["line_flux_integral"]) == pytest.approx(1.0, abs=0.05)   # model mismatch only
    assert abs(got["w20"] - true["w20"]).value < 15                      # km/s
    if true["hi_size"].value > 10:                                       # PA is defined for resolved discs
        assert abs((got["pa"] - true["pa"]).value + 180) % 360 - 180 == pytest.approx(0, abs=10)


def test_a_source_cut_by_the_cube_edge_keeps_its_whole_flux():
    data, labels, header, true = _one_source(134)
    geom = hi_geometry(BRIGHT, header)
    x = int(np.round(WCS(header).celestial.world_to_pixel_values(true["ra"].value, true["dec"].value)[0])) - 1
    cut = np.s_[:, :, x:]                                 # the cube starts one pixel East of the source's centre
    from dataclasses import replace
    geom_cut = replace(geom, celestial=WCS(header).celestial.slice((slice(None), slice(x, None))))
    mask_only = measure_sources(data[cut], labels[cut], geom_cut)
    fitted = fit_sources(mask_only, data[cut], labels[cut], geom_cut)
    true_flux = float(true["line_flux_integral"].value)
    assert mask_only["line_flux_integral"][0].value < 0.8 * true_flux    # a good part of the disc is outside
    assert fitted["line_flux_integral"][0].value == pytest.approx(true_flux, rel=0.08)


def test_profile_w20_is_twice_the_projected_rotation_plus_dispersion():
    widths = [profile_w20(v, 3.0) for v in (20.0, 80.0, 150.0)]
    assert widths == sorted(widths)
    assert 300 < widths[-1] < 340                                        # 2 × 150 + ~2 × 10 km/s


def test_rows_left_out_of_the_fit_keep_their_mask_measurements():
    data, labels, header, _ = _one_source(51)
    geom = hi_geometry(BRIGHT, header)
    mask_only = measure_sources(data, labels, geom)
    kept = fit_sources(mask_only, data, labels, geom, only=np.array([False]))
    assert not kept["disc_fit"][0] and np.isnan(kept["disc_snr"][0])
    assert kept["line_flux_integral"][0] == mask_only["line_flux_integral"][0]
    assert kept["w20"][0] == mask_only["w20"][0]


def test_a_source_fitted_later_from_its_box_gets_the_fit_it_gets_in_place():
    """A big cube's tile sends back the box of a source it is unsure of; fitted from that box once the whole cube is
    calibrated, the source gets the numbers an in-place fit gives, at the cube position the tile reported."""
    from astroml_core.tasks.hi.disc_fit import cut_fit_boxes, fit_boxes

    data, labels, header, _ = _one_source(280)
    geom = hi_geometry(BRIGHT, header)
    measured = measure_sources(data, labels, geom)
    in_place = fit_sources(measured, data, labels, geom)
    boxes = cut_fit_boxes(data, labels, np.array([True]), noise=geom.noise)
    later = fit_boxes(measured, boxes, geom)
    assert later["disc_fit"][0] and boxes[0].data.size < data.size / 4
    for col in ("line_flux_integral", "w20", "pa", "hi_size", "disc_snr"):
        assert np.asarray(later[col])[0] == pytest.approx(np.asarray(in_place[col])[0], rel=1e-6)
    assert fit_boxes(measured, [None], geom)["disc_fit"][0] == False     # noqa: E712  (no box: not fitted)
