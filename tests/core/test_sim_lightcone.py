"""The 21 cm lightcone simulator: determinism, the physics each parameter carries, the FITS it writes,
and agreement with 21cmFAST at the reference points run by ``python -m astroml_core.validate lightcone``."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.lightcone import (FIDUCIAL, PARAMETER_NAMES, LightconeConfig, physically_allowed, sample_allowed,
                                        simulate_lightcone, thermal_history, write_lightcone)
from astroml_core.tasks.inference import open_lightcone

SMALL = LightconeConfig(n_cells=16, n_los=256)

# 21cmFAST 4.1.1 (const-zeta, USE_TS_FLUCT, M_MIN_in_Mass=False), 32² × 3 Mpc, z 6–15, seed 1:
# z where x_HI = 0.5, mean δT_b [mK] at z = 8, 12, 14, and how close we are (weak, hard X-ray heating is
# where we differ most: our IGM stays colder, as the model card says).
REFERENCE_21CMFAST = {
    "fiducial": (dict(omega_m=0.3, zeta=30.0, log_tvir=4.7, log_lx=40.0, e0=500.0, m_wdm=10.0), 7.06,
                 (12.44, -24.74, -112.73), 20.0),
    "fast": (dict(omega_m=0.3, zeta=100.0, log_tvir=4.3, log_lx=40.0, e0=500.0, m_wdm=10.0), 10.71,
             (0.01, 7.04, -27.45), 20.0),
    "cold": (dict(omega_m=0.38, zeta=30.0, log_tvir=4.7, log_lx=38.5, e0=1200.0, m_wdm=10.0), 8.25,
             (-4.25, -131.65, -184.28), 50.0),
}


def _z_half(lc) -> float:
    return float(np.interp(0.5, lc.xhi, lc.redshift))


def test_same_seed_same_lightcone_and_other_seed_differs():
    a = simulate_lightcone(FIDUCIAL, seed=3, config=SMALL)
    b = simulate_lightcone(FIDUCIAL, seed=3, config=SMALL)
    c = simulate_lightcone(FIDUCIAL, seed=4, config=SMALL)
    assert a.tb.shape == (16, 16, 256)
    np.testing.assert_array_equal(a.tb, b.tb)
    assert not np.allclose(a.tb, c.tb)
    assert a.redshift[0] == pytest.approx(6.0, abs=0.02) and np.all(np.diff(a.redshift) > 0)


@pytest.mark.parametrize("name", list(REFERENCE_21CMFAST))
def test_global_history_agrees_with_21cmfast(name):
    params, z_half, tb_ref, tolerance = REFERENCE_21CMFAST[name]
    cfg = LightconeConfig(n_cells=32, cell_mpc=3.0, n_los=700)
    lc = simulate_lightcone(params, seed=1, config=cfg)
    assert _z_half(lc) == pytest.approx(z_half, abs=0.4)
    for z, ref in zip((8.0, 12.0, 14.0), tb_ref):
        assert float(np.interp(z, lc.redshift, lc.mean_tb)) == pytest.approx(ref, abs=tolerance)


def test_each_parameter_moves_the_signal_the_physical_way():
    cfg = LightconeConfig(n_cells=16, n_los=400)
    run = lambda **change: simulate_lightcone(dict(FIDUCIAL, **change), seed=5, config=cfg)  # noqa: E731
    at12 = lambda lc: float(np.interp(12.0, lc.redshift, lc.mean_tb))  # noqa: E731
    base = run()
    assert _z_half(run(zeta=60.0)) > _z_half(base) + 0.3       # more ionising photons: earlier
    assert _z_half(run(m_wdm=0.8)) < _z_half(base) - 0.2       # fewer small haloes: later
    assert _z_half(run(log_tvir=4.3)) > _z_half(base) + 0.3    # smaller haloes form stars: earlier
    assert at12(run(log_lx=38.5)) < at12(base) - 50            # little X-ray heating: deep absorption
    assert at12(run(e0=1200.0)) < at12(base) - 10              # hard X-rays travel far before they heat
    assert thermal_history(dict(FIDUCIAL, log_lx=41.0)).at("t_k", 12.0) > thermal_history(FIDUCIAL).at("t_k", 12.0)


def test_prior_cuts_reject_late_and_early_reionisation():
    assert not physically_allowed(dict(FIDUCIAL, zeta=10.0, log_tvir=5.3))   # x_HI(z=5) > 0.1
    assert not physically_allowed(dict(FIDUCIAL, zeta=250.0, log_tvir=4.0))  # τ > 0.089
    draws = sample_allowed(20, np.random.default_rng(0))
    assert len(draws) == 20 and all(physically_allowed(d) for d in draws)


def test_fits_round_trip_keeps_truth_redshifts_and_units(tmp_path):
    lc = simulate_lightcone(FIDUCIAL, seed=2, config=SMALL)
    path = tmp_path / "lc.fits"
    write_lightcone(path, lc)
    data = open_lightcone(path)
    np.testing.assert_allclose(data.tb, lc.tb)
    np.testing.assert_allclose(data.redshift, lc.redshift)
    assert data.cell_mpc == 4.0
    assert data.truth == pytest.approx({k: FIDUCIAL[k] for k in PARAMETER_NAMES})


def test_demo_lightcones_on_an_older_grid_are_written_again(tmp_path):
    from astropy.io import fits

    from astroml_core.sim.lightcone import DEMO_LIGHTCONES, ensure_demo_lightcones

    name, (params, seed) = next(iter(DEMO_LIGHTCONES.items()))
    older = LightconeConfig(n_los=LightconeConfig().n_los // 2)
    write_lightcone(tmp_path / name, simulate_lightcone(params, seed=seed, config=older))
    paths = ensure_demo_lightcones(tmp_path)
    assert [fits.getheader(p)["NAXIS3"] for p in paths] == [LightconeConfig().n_los] * len(DEMO_LIGHTCONES)
    stamp = [p.stat().st_mtime_ns for p in paths]
    assert [p.stat().st_mtime_ns for p in ensure_demo_lightcones(tmp_path)] == stamp    # today's grid is kept
