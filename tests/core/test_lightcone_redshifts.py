"""Slice redshifts of lightcone files from other codes: a REDSHIFT table's redshift column whatever it is called,
a comoving-distance column, or ZMIN and CDELT3; what was assumed is said, and an unknown column is refused."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.cosmology import FlatLambdaCDM, Planck18, z_at_value
from astropy.io import fits
from astropy.table import Table
import astropy.units as u

from astroml_core.errors import MissingWCSError, ShapeError
from astroml_core.sim.lightcone import FIDUCIAL, LightconeConfig, simulate_lightcone, write_lightcone
from astroml_core.tasks.inference import open_lightcone

N_LOS = 30
Z = np.linspace(6.0, 7.5, N_LOS)
SIM_COSMOLOGY = FlatLambdaCDM(H0=67.66, Om0=0.31, Tcmb0=0)     # our simulator's: Planck h, no radiation


def _lightcone(path, columns: dict | None, units: dict | None = None, **cards):
    """A small (N_LOS, 8, 8) lightcone whose REDSHIFT table has ``columns`` (no table when None)."""
    h = fits.Header()
    h["BUNIT"] = "mK"
    for axis in (1, 2, 3):
        h[f"CTYPE{axis}"], h[f"CUNIT{axis}"], h[f"CDELT{axis}"] = ("X", "Y", "LOSDIST")[axis - 1], "Mpc", 4.0
    for key, value in cards.items():
        if value is None:
            h.remove(key, ignore_missing=True)
        else:
            h[key] = value
    hdus = [fits.PrimaryHDU(np.random.default_rng(1).normal(size=(N_LOS, 8, 8)).astype(np.float32), h)]
    if columns is not None:
        table = Table(columns)
        for name, unit in (units or {}).items():
            table[name].unit = unit
        hdus.append(fits.table_to_hdu(table))
        hdus[-1].name = "REDSHIFT"
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


@pytest.mark.parametrize("column", ["z", "REDSHIFT", "redshift", "Z", "zred"])
def test_a_redshift_column_is_read_whatever_its_name(tmp_path, column):
    lc = open_lightcone(_lightcone(tmp_path / "lc.fits", {column: Z, "xhi": np.linspace(0.9, 0.5, N_LOS)}))
    np.testing.assert_array_equal(lc.redshift, Z)
    np.testing.assert_allclose(lc.xhi, np.linspace(0.9, 0.5, N_LOS))
    assert lc.notes == ()


@pytest.mark.parametrize("column", ["distance", "DC", "comoving_distance"])
def test_a_comoving_distance_column_gives_astropys_z_at_value_with_the_cosmology_named_in_the_header(tmp_path, column):
    distance = np.linspace(8400.0, 8700.0, N_LOS)
    lc = open_lightcone(_lightcone(tmp_path / "lc.fits", {column: distance}, {column: "Mpc"}, COSMO="Planck18"))
    expected = z_at_value(Planck18.comoving_distance, distance * u.Mpc, ztol=1e-10).value
    np.testing.assert_allclose(lc.redshift, expected, rtol=0, atol=1e-6)
    assert any("Planck18" in note and column in note for note in lc.notes)


def test_without_a_named_cosmology_distances_use_ours_and_say_so(tmp_path):
    distance = np.linspace(8400.0, 8700.0, N_LOS)
    lc = open_lightcone(_lightcone(tmp_path / "lc.fits", {"distance": distance}, {"distance": "Mpc"}))
    expected = z_at_value(SIM_COSMOLOGY.comoving_distance, distance * u.Mpc, ztol=1e-10).value
    np.testing.assert_allclose(lc.redshift, expected, rtol=0, atol=1e-6)
    assert any("names no cosmology" in note and "67.66" in note for note in lc.notes)


def test_h0_and_omega_m_cards_make_the_cosmology_and_mpc_per_h_is_divided_by_h(tmp_path):
    cosmo = FlatLambdaCDM(H0=70.0, Om0=0.3, Tcmb0=0)
    distance = np.linspace(8000.0, 8300.0, N_LOS)                # Mpc
    path = _lightcone(tmp_path / "lc.fits", {"DC": distance * 0.7}, {"DC": "Mpc/h"}, H0=70.0, OMEGA_M=0.3)
    lc = open_lightcone(path)
    np.testing.assert_allclose(lc.redshift, z_at_value(cosmo.comoving_distance, distance * u.Mpc, ztol=1e-10).value,
                               rtol=0, atol=1e-6)
    assert any("divided by h = 0.7" in note for note in lc.notes)
    assert not any(note.startswith("Assumed") for note in lc.notes)


def test_zmin_and_cdelt3_give_a_redshift_per_slice(tmp_path):
    lc = open_lightcone(_lightcone(tmp_path / "lc.fits", None, ZMIN=6.0, CDELT3=2.0, CUNIT3="Mpc", COSMO="Planck18"))
    distance = Planck18.comoving_distance(6.0) + 2.0 * u.Mpc * np.arange(N_LOS)
    np.testing.assert_allclose(lc.redshift, z_at_value(Planck18.comoving_distance, distance, ztol=1e-10).value,
                               rtol=0, atol=1e-6)
    assert "ZMIN = 6" in lc.notes[0] and "2 Mpc per slice" in lc.notes[0]


def test_zmin_without_cdelt3_takes_the_cells_as_cubic_and_says_so(tmp_path):
    lc = open_lightcone(_lightcone(tmp_path / "lc.fits", None, ZMIN=6.0, CDELT3=None))
    distance = SIM_COSMOLOGY.comoving_distance(6.0) + 4.0 * u.Mpc * np.arange(N_LOS)
    np.testing.assert_allclose(lc.redshift, z_at_value(SIM_COSMOLOGY.comoving_distance, distance, ztol=1e-10).value,
                               rtol=0, atol=1e-6)
    assert any("no CDELT3" in note for note in lc.notes) and any("names no cosmology" in n for n in lc.notes)


def test_an_unknown_column_names_the_columns_found_and_the_names_accepted(tmp_path):
    path = _lightcone(tmp_path / "lc.fits", {"foo": Z, "xhi": Z})
    with pytest.raises(MissingWCSError, match=r"columns \['foo', 'xhi'\] but none named z or REDSHIFT.*redshift.*"
                                              r"comoving_distance"):
        open_lightcone(path)


def test_a_distance_without_a_unit_or_with_a_wrong_one_is_refused(tmp_path):
    with pytest.raises(MissingWCSError, match="distance column 'distance' has no unit: set TUNIT1 = 'Mpc'"):
        open_lightcone(_lightcone(tmp_path / "a.fits", {"distance": np.linspace(8000, 8100, N_LOS)}))
    with pytest.raises(MissingWCSError, match="TUNIT1 = 's', not a length"):
        open_lightcone(_lightcone(tmp_path / "b.fits", {"distance": np.linspace(8000, 8100, N_LOS)}, {"distance": "s"}))
    with pytest.raises(MissingWCSError, match="COSMO = 'Planck99' is not a cosmology astropy knows"):
        open_lightcone(_lightcone(tmp_path / "c.fits", {"distance": np.linspace(8000, 8100, N_LOS)},
                                  {"distance": "Mpc"}, COSMO="Planck99"))
    with pytest.raises(ShapeError, match="horizon"):
        open_lightcone(_lightcone(tmp_path / "d.fits", {"distance": np.linspace(8e4, 9e4, N_LOS)}, {"distance": "Mpc"}))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    path = tmp_path_factory.mktemp("lc") / "ours.fits"
    lc = simulate_lightcone(FIDUCIAL, seed=11, config=LightconeConfig(n_cells=16))
    write_lightcone(path, lc)
    return path, lc


def test_our_simulators_files_open_as_before(simulated):
    path, lc = simulated
    data = open_lightcone(path)
    np.testing.assert_array_equal(data.redshift, lc.redshift)
    np.testing.assert_array_equal(data.xhi, lc.xhi)
    assert data.notes == () and data.truth["omega_m"] == pytest.approx(FIDUCIAL["omega_m"])


def test_the_cli_runs_a_lightcone_with_a_REDSHIFT_column_to_the_same_posterior_as_with_z(simulated, tmp_path, capsys):
    from astroml_core.cli import main

    path, _ = simulated
    with fits.open(path) as hdul:
        hdus = fits.HDUList([h.copy() for h in hdul])
    table = Table(hdus["REDSHIFT"].data)
    table.rename_column("z", "REDSHIFT")
    hdus[1] = fits.table_to_hdu(table)
    hdus[1].name = "REDSHIFT"
    hdus.writeto(tmp_path / "renamed.fits")
    assert main(["infer", "lightcone", str(path), "-o", str(tmp_path / "z.ecsv"), "-n", "500"]) == 0
    assert main(["infer", "lightcone", str(tmp_path / "renamed.fits"), "-o", str(tmp_path / "R.ecsv"), "-n", "500"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    a, b = Table.read(tmp_path / "z.ecsv"), Table.read(tmp_path / "R.ecsv")
    for name in a.colnames:
        np.testing.assert_array_equal(a[name], b[name])


def test_the_cli_says_what_it_assumed_for_a_zmin_only_lightcone(simulated, tmp_path, capsys):
    from astroml_core.cli import main

    path, _ = simulated
    with fits.open(path) as hdul:
        fits.HDUList([hdul[0].copy()]).writeto(tmp_path / "zmin.fits")
    assert main(["infer", "lightcone", str(tmp_path / "zmin.fits"), "-o", str(tmp_path / "p.ecsv"), "-n", "200"]) == 0
    assert "note: There is no REDSHIFT table: slice redshifts come from ZMIN" in capsys.readouterr().err


def test_comoving_units_as_simulation_codes_write_them_are_read_as_mpc(tmp_path):
    distance = np.linspace(8400.0, 8700.0, N_LOS)
    path = _lightcone(tmp_path / "lc.fits", {"distance": distance / 1000}, {"distance": "Gpc"}, CUNIT1="cMpc",
                      COSMO="Planck18")
    lc = open_lightcone(path)
    np.testing.assert_allclose(lc.redshift, z_at_value(Planck18.comoving_distance, distance * u.Mpc, ztol=1e-10).value,
                               rtol=0, atol=1e-6)
    lc = open_lightcone(_lightcone(tmp_path / "z.fits", None, ZMIN=6.0, CDELT3=4.0, CUNIT3="cMpc", COSMO="Planck18"))
    assert lc.cell_mpc == 4.0 and "4 Mpc per slice" in lc.notes[0]
