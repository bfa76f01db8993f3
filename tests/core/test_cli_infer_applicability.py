"""cli: `astroml infer lightcone` on a lightcone its posterior's misspecification check flags says so on stderr
and keeps the check in the written samples' meta; an unflagged one (or one with no check) says nothing."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.table import QTable

import astroml_core.tasks.inference as inference
from astroml_core.cli import main
from astroml_core.sim.lightcone import DEMO_LIGHTCONES, PARAMETERS, simulate_lightcone, write_lightcone
from astroml_core.tasks.inference.lightcone import parameter_unit

CHECK = dict(score=7.25, threshold=3.0, domain="none",
             message="This lightcone is unlike anything the model was trained on: its fluctuations are eight times "
                     "stronger. The intervals below are not to be trusted as they stand.",
             rule="intervals widened: equal mixture of the network's posterior and the prior")


@pytest.fixture(scope="module")
def lightcone(tmp_path_factory):
    params, seed = DEMO_LIGHTCONES["lightcone_fiducial.fits"]
    path = tmp_path_factory.mktemp("lc") / "lc.fits"
    write_lightcone(path, simulate_lightcone(params, seed=seed))
    return path


def _posterior_with(monkeypatch, **meta):
    """A stand-in posterior (uniform over the prior, no network) whose meta is what the check would set, so
    this tests the command alone."""
    def fake(data, *, n_samples=10_000, seed=0, device=None):
        rng = np.random.default_rng(seed)
        table = QTable({p.name: rng.uniform(p.low, p.high, n_samples) * parameter_unit(p.name) for p in PARAMETERS})
        table.meta.update(lightcone=data.name, truth=data.truth, model="lightcone_flow", notes=[], **meta)
        return table

    monkeypatch.setattr(inference, "lightcone_posterior", fake)


def test_an_off_distribution_lightcone_warns_on_stderr_and_the_file_keeps_the_check(lightcone, tmp_path, capsys,
                                                                                     monkeypatch):
    _posterior_with(monkeypatch, in_distribution=False, applicability=dict(CHECK))
    out = tmp_path / "post.ecsv"
    assert main(["infer", "lightcone", str(lightcone), "-o", str(out), "-n", "300"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    assert CHECK["message"] in warnings[0] and "score 7.25 > threshold 3" in warnings[0]
    assert CHECK["rule"] in warnings[0]
    meta = QTable.read(out, format="ascii.ecsv").meta
    assert meta["in_distribution"] is False
    assert meta["applicability"] == CHECK


@pytest.mark.parametrize("meta", [dict(in_distribution=True, applicability=dict(CHECK, score=1.0)), {}],
                         ids=["in-distribution", "no-check"])
def test_an_in_distribution_lightcone_or_one_without_a_check_gives_no_warning(lightcone, tmp_path, capsys,
                                                                              monkeypatch, meta):
    _posterior_with(monkeypatch, **meta)
    out = tmp_path / "post.ecsv"
    assert main(["infer", "lightcone", str(lightcone), "-o", str(out), "-n", "300"]) == 0
    assert "warning:" not in capsys.readouterr().err
    written = QTable.read(out, format="ascii.ecsv").meta
    assert written.get("in_distribution", True) is True
