"""cli: `astroml infer galaxy` on a table with a galaxy unlike the training galaxies warns on stderr, leaves that
galaxy out, and keeps the check in the written samples' meta; a demo universe's galaxies give no warning."""
from __future__ import annotations

import numpy as np
from astropy.table import QTable

from astroml_core.cli import main
from astroml_core.tasks.inference.galaxy import DEMO_UNIVERSES, demo_universe, galaxy_table
from astroml_core.tasks.inference.galaxy_applicability import COMBINE_RULE

UNIVERSE_B = next(name for name in DEMO_UNIVERSES if "B" in name.split()[1])


def _table(tmp_path, props):
    path = tmp_path / "galaxies.ecsv"
    galaxy_table(props).write(path, format="ascii.ecsv")
    return path


def _warnings(capsys) -> tuple[list[str], str]:
    captured = capsys.readouterr()
    return [line for line in captured.err.splitlines() if line.startswith("warning:")], captured.out


def test_a_galaxy_off_the_relations_is_flagged_left_out_and_kept_in_the_file(tmp_path, capsys):
    props = demo_universe(UNIVERSE_B, 4)[1].copy()
    props[2, 4] += 1.0                                     # row 3: V_max ten times too high for its masses
    out = tmp_path / "post.ecsv"
    assert main(["infer", "galaxy", str(_table(tmp_path, props)), "-o", str(out), "-n", "2000"]) == 0
    warnings, stdout = _warnings(capsys)
    assert len(warnings) == 1 and "warning: off-distribution: 1 of 4 galaxies (row 3)" in warnings[0]
    assert "> threshold 1" in warnings[0] and COMBINE_RULE in warnings[0]
    assert "from 4 galaxies (1 flagged, left out)" in stdout
    meta = QTable.read(out, format="ascii.ecsv").meta
    assert meta["in_distribution"] is False and meta["applicability"]["flagged_rows"] == [3]
    assert meta["applicability"]["scores"][3] > 1 >= max(v for k, v in meta["applicability"]["scores"].items() if k != 3)


def test_only_flagged_galaxies_give_the_prior(tmp_path, capsys):
    props = demo_universe(UNIVERSE_B, 2)[1] + 1.0            # every property a dex off
    out = tmp_path / "post.ecsv"
    assert main(["infer", "galaxy", str(_table(tmp_path, props)), "-o", str(out), "-n", "4000"]) == 0
    warnings, _ = _warnings(capsys)
    assert len(warnings) == 1 and "2 of 2 galaxies" in warnings[0]
    omega = np.asarray(QTable.read(out, format="ascii.ecsv")["omega_m"])
    assert np.quantile(omega, 0.16) < 0.17 and np.quantile(omega, 0.84) > 0.43     # the prior 0.1–0.5


def test_demo_galaxies_give_no_warning_and_say_so_in_the_file(tmp_path, capsys):
    props = demo_universe(UNIVERSE_B, 5)[1]
    out = tmp_path / "post.ecsv"
    assert main(["infer", "galaxy", str(_table(tmp_path, props)), "-o", str(out), "-n", "2000"]) == 0
    warnings, stdout = _warnings(capsys)
    assert warnings == [] and "from 5 galaxies;" in stdout
    meta = QTable.read(out, format="ascii.ecsv").meta
    assert meta["in_distribution"] is True and meta["applicability"]["rule"] is None
