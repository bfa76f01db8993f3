"""Domain-randomised blend fields (issue 30): the default path unchanged bit for bit, the random domains
covering their documented ranges, stars with the PSF's width, Sérsic shapes, fluxes and training fields."""
import hashlib

import numpy as np
import pytest

from astroml_core.errors import ShapeError
from astroml_core.sim.blend_domains import TRAINING_DOMAIN, random_blend_config
from astroml_core.sim.blend_profiles import PSF_FAMILIES, PSFSpec, galaxy_profile
from astroml_core.sim.blends import BlendConfig, demo_config, simulate_blends
from astroml_core.train.deblend import DOMAIN_STAGE, STAGES, _field


def _hash(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a)).tobytes())
    return h.hexdigest()[:16]


def _sim_hash(sim) -> str:
    return _hash(sim.images, sim.isolated, *(x for c in sim.truth.colnames for x in (c.encode(), sim.truth[c])))


# computed on the code before the randomised-domain options existed
@pytest.mark.parametrize("seed, config, pin", [(2000, None, "ede150cf57c44ce3"), (50001, None, "7a6e77bc1c30904d"),
                                               (2500, BlendConfig(group_size=(2, 2)), "ca6bf59a75af2dcb"),
                                               (7, demo_config(), "c1a71a27f122d844")])
def test_default_fields_are_bit_identical_to_before(seed, config, pin):
    sim = simulate_blends(seed, config)
    assert _sim_hash(sim) == pin
    assert "star" not in sim.truth.colnames


def test_default_training_field_is_bit_identical_to_before():
    f = _field(50000, 5.0, 0.9)
    assert _hash(*(x for k in sorted(f) for x in (k.encode(), f[k]))) == "b1b59c2e0d8c161e"


def test_random_configs_cover_the_documented_ranges():
    cfgs = [random_blend_config(np.random.default_rng([s, 7])) for s in range(300)]
    pix = np.array([c.pixel_arcsec for c in cfgs])
    fwhm = np.array([c.psf_fwhm_arcsec for c in cfgs])
    lo, hi = TRAINING_DOMAIN["pixel_arcsec"]
    assert lo <= pix.min() < lo + 0.02 and hi - 0.02 < pix.max() <= hi
    lo, hi = TRAINING_DOMAIN["psf_fwhm_arcsec"]
    assert lo <= fwhm.min() < lo + 0.05 and hi - 0.05 < fwhm.max() <= hi
    assert {c.psf[0].family for c in cfgs} == set(PSF_FAMILIES) == set(TRAINING_DOMAIN["psf_families"])
    betas = [c.psf[0].beta for c in cfgs if c.psf[0].family == "moffat"]
    assert 2.0 <= min(betas) < 2.3 and 4.7 < max(betas) <= 5.0
    depth = 2.5 * np.log10(np.array([c.sky_sigma for c in cfgs]) / np.array(TRAINING_DOMAIN["sky_sigma_counts"]))
    assert depth.min() < -1.3 and depth.max() > 1.3 and np.abs(depth).max() <= 1.5 + 1e-9
    assert all(c.nx == c.ny == 64 and c.n_groups == 1 and c.varied and c.max_e == 0.8 for c in cfgs)
    assert np.ptp(fwhm / fwhm.mean(axis=1, keepdims=True), axis=1).max() <= 0.2 + 1e-9   # bands ± 10 %


@pytest.mark.parametrize("spec, fwhm", [(PSFSpec("moffat", beta=2.5), 0.8), (PSFSpec("kolmogorov"), 0.8),
                                        (PSFSpec("double_gaussian", halo_ratio=3.0, halo_frac=0.3), 0.6)])
def test_a_star_has_the_psf_fwhm_and_the_truth_marks_it(spec, fwhm):
    import galsim

    cfg = BlendConfig(pixel_arcsec=0.1, psf=(spec,) * 4, psf_fwhm_arcsec=(fwhm,) * 4, group_size=(2, 2),
                      star_share=1.0)
    sim = simulate_blends(3, cfg)
    assert list(sim.truth["star"]) == [True, True] and list(sim.truth["kind"]) == ["star", "star"]
    assert np.all(np.asarray(sim.truth["r_disc"]) == 0)
    x, y = float(sim.truth["x"][0]), float(sim.truth["y"][0])
    measured = galsim.ImageF(sim.isolated[0, 2], scale=0.1).calculateFWHM(center=galsim.PositionD(x + 1, y + 1))
    assert measured == pytest.approx(fwhm, rel=0.06)


def test_a_low_index_sersic_has_a_flatter_core_than_n4():
    def core_contrast(n):
        gal = dict(kind="sersic", sersic_n=n, r_disc=1.0, e=0.0, beta=0.0, bulge_flux=np.zeros(4),
                   disc_flux=np.ones(4) * 1e4)
        img = galaxy_profile(gal, 0).drawImage(nx=81, ny=81, scale=0.05).array
        yy, xx = np.indices(img.shape) - 40
        ring = np.abs(np.hypot(xx, yy) - 20) < 0.5                # at the half-light radius (1″)
        return img[40, 40] / img[ring].mean()

    flat, cuspy = core_contrast(0.5), core_contrast(4.0)
    assert flat < 3 and cuspy > 50        # I(0)/I(r_e) = exp(b_n): 2.0 for n = 0.5, 2100 for n = 4


def test_domain_training_fields_have_the_default_shapes():
    ref = _field(50000, 5.0, 0.9)
    kinds = set()
    for seed in range(160000, 160012):
        f = _field(seed, 5.0, 0.9, domains=True)
        assert f.keys() == ref.keys()
        for k in ("scaled", "heat"):
            assert f[k].shape == ref[k].shape and f[k].dtype == ref[k].dtype and np.isfinite(f[k]).all()
        n = len(f["snr"])
        assert f["iso"].shape == (n, *ref["iso"].shape[1:]) and f["iso"].dtype == ref["iso"].dtype
        assert f["centres"].shape == (n, 2) and f["centres"].dtype == ref["centres"].dtype
        assert np.isfinite(f["iso"]).all() and np.isfinite(f["snr"]).all()
        kinds |= set(simulate_blends(seed, random_blend_config(np.random.default_rng([seed, 7]))).truth["kind"])
    assert kinds == {"bulge+disc", "sersic", "star"}


def test_a_field_with_nothing_to_find_still_gives_a_training_field():
    f = _field(160003, min_snr=1e9, heat_sigma=0.9, domains=True)
    assert not f["heat"].any() and f["closest"] == np.inf


def test_truth_flux_is_the_isolated_image_sum_well_inside_the_field():
    checked = 0
    for seed in range(160000, 160030):
        cfg = random_blend_config(np.random.default_rng([seed, 7]))
        sim = simulate_blends(seed, cfg)
        t = sim.truth
        reach = (5 * np.maximum(np.asarray(t["r_disc"].value), max(cfg.psf_fwhm_arcsec))) / cfg.pixel_arcsec + 2
        inside = np.minimum.reduce([t["x"], t["y"], 63 - t["x"], 63 - t["y"]]) > reach
        for k in np.flatnonzero(inside):
            for b, band in enumerate(cfg.bands):
                assert sim.isolated[k, b].sum() == pytest.approx(t[f"flux_{band}"][k], rel=0.04)
            checked += 1
    assert checked >= 10


def test_bad_psf_specs_are_refused():
    with pytest.raises(ValueError, match="unknown PSF family"):
        PSFSpec("airy")
    with pytest.raises(ShapeError, match="one per band"):
        BlendConfig(psf=(PSFSpec(),) * 3)


def test_the_domain_stage_waits_outside_the_shipped_stages():
    assert DOMAIN_STAGE.domains and DOMAIN_STAGE.first_field == 160000 and not any(s.domains for s in STAGES)
