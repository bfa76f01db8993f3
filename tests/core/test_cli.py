"""cli: `astroml sim hi-cube`, `astroml info` and the console script, run headless on files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import QTable

from astroml_core.cli import main
from astroml_core.data import open_cube
from astroml_core.sim.hi import simulate_hi_cube, small_config

SDC2_COLUMNS = ["id", "ra", "dec", "hi_size", "line_flux_integral", "central_freq", "pa", "i", "w20"]
# seed 9's small field holds one source, so the truth file has a row to compare
SEED = 9


def test_sim_hi_cube_writes_an_openable_cube_and_an_sdc2_truth_file(tmp_path, capsys):
    cube_path, truth_path = tmp_path / "out" / "hi.fits", tmp_path / "out" / "hi.ecsv"
    rc = main(["sim", "hi-cube", "--seed", str(SEED), "-o", str(cube_path), "--truth", str(truth_path), "--small"])
    assert rc == 0
    cube = open_cube(cube_path)
    assert cube.shape == (96, 64, 64)
    data, _, expected = simulate_hi_cube(SEED, small_config())
    np.testing.assert_array_equal(cube.channel(50), data[50])
    truth = QTable.read(truth_path, format="ascii.ecsv")
    assert truth.colnames[:len(SDC2_COLUMNS)] == SDC2_COLUMNS
    assert len(truth) == len(expected) >= 1
    assert truth["central_freq"].unit == u.Hz and truth["w20"].unit == u.km / u.s
    np.testing.assert_allclose(truth["line_flux_integral"].to_value(u.Jy * u.Hz),
                               expected["line_flux_integral"].to_value(u.Jy * u.Hz))
    assert f"with {len(expected)} sources" in capsys.readouterr().out
    assert sorted(p.name for p in cube_path.parent.iterdir()) == ["hi.ecsv", "hi.fits"]  # no temp files left


def test_sim_hi_cube_without_truth_writes_only_the_cube(tmp_path):
    assert main(["sim", "hi-cube", "--seed", "3", "-o", str(tmp_path / "c.fits"), "--small"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["c.fits"]


def test_info_prints_channels_shape_and_beam(tmp_path, capsys):
    path = tmp_path / "hi.fits"
    assert main(["sim", "hi-cube", "--seed", "3", "-o", str(path), "--small"]) == 0
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "96 channels" in out and "64 × 64 pixels" in out
    assert "beam: 7.00 arcsec × 7.00 arcsec" in out


def test_info_on_a_non_fits_file_prints_an_error_and_returns_2(tmp_path, capsys):
    bad = tmp_path / "notes.fits"
    bad.write_text("this is not FITS\n")
    assert main(["info", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error:") and "not a FITS file" in captured.err
    assert captured.out == ""


def test_info_on_a_missing_file_returns_2(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.fits")]) == 2
    assert "error:" in capsys.readouterr().err


def test_console_script_help_lists_the_commands():
    script = Path(sys.executable).with_name("astroml")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert all(cmd in result.stdout for cmd in ("sim", "info", "serve"))


def test_serve_becomes_python_m_app_with_every_option(monkeypatch):
    """``astroml serve`` runs the app in a new interpreter image (the core imports no app code); options such as
    --port reach the app (argparse's REMAINDER used to refuse an option right after ``serve``)."""
    import astroml_core.cli as cli

    ran = []
    monkeypatch.setattr(cli.os, "execv", lambda exe, argv: ran.append((exe, argv)))
    assert main(["serve", "--port", "5007", "--address", "0.0.0.0"]) == 0
    assert ran == [(sys.executable, [sys.executable, "-m", "app", "--port", "5007", "--address", "0.0.0.0"])]
