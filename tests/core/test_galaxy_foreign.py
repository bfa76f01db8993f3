"""validate.galaxy_foreign: the foreign galaxy set — written apart from the training generator, seeds
used by nothing else, the model's prior box and properties, and Ω_m acting the physical way."""
from __future__ import annotations

import numpy as np

from astroml_core.validate import galaxy_foreign as foreign
from astroml_core.validate.galaxy_foreign import FOREIGN_SEEDS, PARAMETER_BOUNDS, PROPERTY_NAMES, foreign_galaxies, observe
from tests.core.foreign_isolation import assert_apart_from_the_simulator


def test_imports_nothing_from_the_training_simulator():
    assert_apart_from_the_simulator(foreign, "t, p = m.foreign_galaxies(5); assert p.shape == (5, 11)")


def test_seeds_are_disjoint_from_every_galaxy_seed_and_the_other_foreign_sets():
    from astroml_core.tasks.inference.galaxy import DEMO_UNIVERSES
    from astroml_core.train import galaxy_applicability as ref
    from astroml_core.train import inference
    from astroml_core.validate import deblend_foreign, hi_foreign, spectra_foreign

    bases = [inference.GALAXY_TRAIN_SEED, inference.GALAXY_VALID_SEED, inference.GALAXY_HELD_OUT_SEED,
             ref.REFERENCE_SEED, ref.TUNING_SEED]
    used = {s + k for s in bases for k in (0, 1)} | {v[0] for v in DEMO_UNIVERSES.values()}   # galaxy_set: seed, seed+1
    assert {51, 52, 53, 5000, 5001, 6100, 6201, 7001, 7002} <= used
    assert FOREIGN_SEEDS == tuple(range(960_000, 960_000 + len(FOREIGN_SEEDS)))
    assert min(FOREIGN_SEEDS) > max(used)
    others = set(deblend_foreign.FOREIGN_SEEDS) | set(hi_foreign.FOREIGN_SEEDS) | set(spectra_foreign.FOREIGN_SEEDS)
    assert not set(FOREIGN_SEEDS) & others


def test_same_prior_box_and_properties_as_the_model():
    from astroml_core.sim.galaxies import GALAXY_PARAMETERS, PROPERTIES

    assert [(p.name, p.low, p.high) for p in GALAXY_PARAMETERS] == [tuple(b) for b in PARAMETER_BOUNDS]
    assert PROPERTY_NAMES == tuple(name for name, _ in PROPERTIES)
    theta, props = foreign_galaxies(300)
    assert props.shape == (300, 11) and np.isfinite(props).all() and props[:, 1].min() >= 9.0
    low, high = (np.array([b[i] for b in PARAMETER_BOUNDS]) for i in (1, 2))
    assert np.all((theta >= low) & (theta <= high))


def test_at_fixed_stellar_mass_a_higher_omega_m_gives_a_larger_vmax_and_less_baryon_fraction():
    rng = np.random.default_rng(960_050)
    out = {}
    for om in (0.15, 0.45):
        theta = np.tile([om, 0.8, 0, 0, 0, 0], (4000, 1))
        p = observe(theta, rng)
        p = p[(p[:, 1] > 10.0) & (p[:, 1] < 10.5)]
        out[om] = (np.median(p[:, 4]), np.median(p[:, 3] - p[:, 1]))
    assert out[0.45][0] > out[0.15][0] + 0.02        # V_max (dex)
    assert out[0.45][1] > out[0.15][1] + 0.2         # halo-to-stellar mass ratio


def test_reproducible_and_only_foreign_seeds():
    a, b = foreign_galaxies(20, FOREIGN_SEEDS[3]), foreign_galaxies(20, FOREIGN_SEEDS[3])
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], foreign_galaxies(20)[1])
    try:
        foreign_galaxies(5, 5000)
    except ValueError as exc:
        assert "not a foreign seed" in str(exc)
    else:
        raise AssertionError("a training seed was accepted")
