"""``astroml spectra classify`` and ``astroml spectra embed`` on files written by ``astroml sim spectra``."""
from __future__ import annotations

import numpy as np
from astropy.table import Table

from astroml_core.cli import main as cli
from astroml_core.sim.spectra import CLASSES


def test_classify_writes_class_probabilities_and_scores(tmp_path):
    spectra = tmp_path / "s.fits"
    assert cli(["sim", "spectra", "--seed", "3030", "-n", "260", "-o", str(spectra)]) == 0
    assert cli(["spectra", "classify", str(spectra), "-o", str(tmp_path / "c.ecsv")]) == 0
    t = Table.read(tmp_path / "c.ecsv")
    assert len(t) == 260 and {f"p_{c}" for c in CLASSES} <= set(t.colnames)
    probs = np.column_stack([t[f"p_{c}"] for c in CLASSES])
    assert np.allclose(probs.sum(axis=1), 1, atol=2e-3)
    assert np.mean(t["predicted_class"] == t["true_class"]) > 0.9
    assert {"uncertainty", "anomaly", "disagreement"} <= set(t.colnames)


def test_embed_makes_a_map_and_places_new_spectra_into_a_reference_map(tmp_path):
    ref, new = tmp_path / "ref.fits", tmp_path / "new.fits"
    cli(["sim", "spectra", "--seed", "3031", "-n", "300", "-o", str(ref)])
    cli(["sim", "spectra", "--seed", "3032", "-n", "40", "-o", str(new)])
    assert cli(["spectra", "embed", str(ref), "-o", str(tmp_path / "m.ecsv"), "--method", "pca"]) == 0
    m = Table.read(tmp_path / "m.ecsv")
    assert m.colnames == ["id", "PC 1", "PC 2"] and len(m) == 300
    assert cli(["spectra", "embed", str(new), "-o", str(tmp_path / "p.ecsv"), "--method", "vae",
                "--reference", str(ref)]) == 0
    p = Table.read(tmp_path / "p.ecsv")
    assert len(p) == 40 and "placed into the map" in " ".join(p.meta["comments"])


def test_bad_file_exits_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.fits"
    bad.write_text("not fits")
    assert cli(["spectra", "classify", str(bad), "-o", str(tmp_path / "c.ecsv")]) == 2
    assert "not a FITS file" in capsys.readouterr().err
