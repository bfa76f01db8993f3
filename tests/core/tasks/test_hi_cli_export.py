"""`astroml hi detect` end to end on a file, and catalogue export (ECSV, VOTable, CSV, DS9 regions)."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table

from astroml_core.cli import main
from astroml_core.errors import AstroMLError
from astroml_core.sim.hi import HICubeConfig, write_hi_cube
from astroml_core.tasks.hi import write_catalogue

# a small field (96 × 96 × 160) with SDC2's beam, pixels, channels and noise, and bright sources
SMALL = HICubeConfig(nx=96, ny=96, n_channels=160, density_factor=8.0, particles=3000)


@pytest.fixture(scope="module")
def small_cube(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hi")
    truth = write_hi_cube(folder / "cube.fits", 1003, folder / "cube_truth.ecsv", SMALL)
    return folder / "cube.fits", truth


def catalogue() -> QTable:
    t = QTable()
    t["id"] = [0, 1]
    t["ra"] = [180.0, 180.01] * u.deg
    t["dec"] = [-30.0, -30.01] * u.deg
    t["hi_size"] = [12.0, 20.0] * u.arcsec
    t["line_flux_integral"] = [50.0, 80.0] * u.Jy * u.Hz
    t["central_freq"] = [1.14e9, 1.141e9] * u.Hz
    t["pa"] = [30.0, 300.0] * u.deg
    t["i"] = [60.0, 0.0] * u.deg
    t["w20"] = [250.0, 300.0] * u.km / u.s
    t["score"] = [0.9, 0.8]
    return t


def test_baseline_detect_writes_an_sdc2_catalogue_and_regions(small_cube, tmp_path, capsys):
    cube, truth = small_cube
    out, reg = tmp_path / "cat.ecsv", tmp_path / "cat.reg"
    assert main(["hi", "detect", str(cube), "-o", str(out), "--method", "baseline", "--regions", str(reg)]) == 0
    got = QTable.read(out)
    assert len(got) >= 1 and "sources" in capsys.readouterr().out
    for name, unit in (("ra", u.deg), ("central_freq", u.Hz), ("line_flux_integral", u.Jy * u.Hz), ("w20", u.km / u.s)):
        assert got[name].unit == unit
    bright = truth[np.argmax(truth["snr"])]
    sep = np.hypot((got["ra"] - bright["ra"]).to_value(u.arcsec) * np.cos(np.radians(30)),
                   (got["dec"] - bright["dec"]).to_value(u.arcsec))
    assert sep.min() < 7.0      # the brightest source is found within a beam
    from regions import Regions

    assert len(Regions.read(str(reg), format="ds9")) == len(got)


def test_detect_on_a_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.fits"
    bad.write_text("not fits")
    assert main(["hi", "detect", str(bad), "-o", str(tmp_path / "x.ecsv"), "--method", "baseline"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".ecsv", ".vot", ".csv"])
def test_catalogue_round_trips_in_each_table_format(tmp_path, suffix):
    path = write_catalogue(catalogue(), tmp_path / f"cat{suffix}")
    back = Table.read(path, format={".ecsv": "ascii.ecsv", ".vot": "votable", ".csv": "ascii.csv"}[suffix])
    assert len(back) == 2
    ra = back["ra"] if "ra" in back.colnames else back["ra [deg]"]
    np.testing.assert_allclose(np.asarray(ra), [180.0, 180.01])


def test_ds9_regions_carry_size_axis_ratio_and_position_angle(tmp_path):
    from regions import Regions

    regions = Regions.read(str(write_catalogue(catalogue(), tmp_path / "cat.reg")), format="ds9")
    first, second = regions
    assert first.width.to_value(u.arcsec) == pytest.approx(12.0, rel=1e-4)
    q = np.sqrt(np.cos(np.radians(60)) ** 2 * 0.96 + 0.04)
    assert first.height.to_value(u.arcsec) == pytest.approx(12.0 * q, rel=1e-4)
    assert first.angle.to_value(u.deg) == pytest.approx(120.0)          # PA 30° + 90°
    assert second.angle.to_value(u.deg) == pytest.approx(30.0)          # (300° + 90°) mod 360
    assert second.height.to_value(u.arcsec) == pytest.approx(20.0, rel=1e-4)  # face-on: round


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(AstroMLError, match="unknown catalogue format"):
        write_catalogue(catalogue(), tmp_path / "cat.txt")
