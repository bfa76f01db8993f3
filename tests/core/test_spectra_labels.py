"""Votes retrain the spectra classifier: spectra voted into another class are learnt, the rest is kept."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astroml_core.data.spectra import open_spectra
from astroml_core.errors import InvalidVoteError
from astroml_core.sim.spectra import write_simulated
from astroml_core.train.__main__ import main as train_main
from astroml_core.train.spectra_labels import read_labels


@pytest.fixture(scope="module")
def voted_export(tmp_path_factory):
    """A vetting export in which the vetters call every simulated STAR_K1 spectrum STAR_K3."""
    folder = tmp_path_factory.mktemp("votes")
    path = write_simulated(folder / "survey.fits", 4242, 1300)
    truth = np.asarray(open_spectra(path).meta["true_class"]).astype(str)
    rows = np.flatnonzero(truth == "STAR_K1")
    table = Table({"candidate_id": np.arange(len(rows) + 1), "file": [str(path)] * (len(rows) + 1),
                   "row": np.append(rows, 0), "majority": ["STAR_K3"] * len(rows) + ["UNEXPECTED"],
                   "ds_label": ["STAR_K3"] * len(rows) + [""]})
    table.write(folder / "votes.ecsv")
    return folder / "votes.ecsv", len(rows)


def test_read_labels_keeps_class_consensus_and_counts_the_rest(voted_export):
    path, n = voted_export
    voted = read_labels(path)
    assert len(voted.y) == n > 50 and voted.skipped == {"UNEXPECTED": 1}
    with pytest.raises(InvalidVoteError, match="not a vetting export"):
        Table({"x": [1]}).write(path.with_name("bad.ecsv"))
        read_labels(path.with_name("bad.ecsv"))


def test_fine_tuning_on_votes_learns_them_and_keeps_the_rest(voted_export, tmp_path):
    from astroml_core.registry import load_model, read_card

    path, n = voted_export
    assert train_main(["spectra", "--labels", str(path), "--output", str(tmp_path)]) == 0
    front, body = read_card("spectra_net", tmp_path)
    assert front["voted_spectra"] == n and front["voted_accuracy_before"] < 0.2
    assert front["voted_accuracy_after"] > 0.8
    assert front["held_out_unvoted_accuracy_after"] > front["held_out_unvoted_accuracy_before"] - 0.03
    assert front["base_weights_sha256"] == read_card("spectra_net")[0]["weights_sha256"] != front["weights_sha256"]
    assert "UNEXPECTED" in body
    assert load_model("spectra_net", "cpu", tmp_path) is not load_model("spectra_net", "cpu")
