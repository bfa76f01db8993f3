"""validate.spectra_eval / spectra_card / the spectra-foreign CLI (issue 31): the metrics on a hand-made case,
UNKNOWN as its own column, and a small end-to-end run that writes the JSON and the card sections."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from astroml_core.metrics.spectra import expected_calibration_error
from astroml_core.registry import MODEL_DIR, read_card
from astroml_core.validate import spectra_eval
from astroml_core.validate.spectra_eval import CLASS_NAMES, confusion, metrics, summarise

A0, F5, F9, NAN = "STAR_A0", "STAR_F5", "STAR_F9", "GALAXY_nan"


def _probs(rows):
    """(N, 13) probabilities: each row puts p on the named class and spreads the rest evenly."""
    out = []
    for cls, p in rows:
        row = np.full(len(CLASS_NAMES), (1 - p) / (len(CLASS_NAMES) - 1))
        row[CLASS_NAMES.index(cls)] = p
        out.append(row)
    return np.array(out)


def _case():
    true = np.array([A0, A0, F5, F5, NAN])
    pred = np.array([A0, F9, F5, "UNKNOWN", NAN])               # one wrong letter, one withheld
    probs = _probs([(A0, 0.9), (F9, 0.6), (F5, 0.8), (F5, 0.5), (NAN, 1.0)])
    snr = np.array([20.0, 15.0, 5.0, 30.0, 10.0])
    return true, pred, probs, snr


def test_metrics_on_a_hand_made_case():
    m = metrics(*_case())
    assert m["n"] == 5
    assert m["accuracy"] == pytest.approx(3 / 5)                           # UNKNOWN counted as wrong
    assert m["macro_accuracy"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    assert m["unknown_rate"] == pytest.approx(1 / 5)
    assert m["accuracy_answered"] == pytest.approx(3 / 4)                  # over the answered ones only
    assert m["macro_accuracy_answered"] == pytest.approx((1 / 2 + 1 + 1) / 3)
    assert m["argmax_accuracy"] == pytest.approx(4 / 5)                    # the withheld one's argmax was right
    # every confidence in its own bin: ECE = mean |correct − confidence| of the argmax
    assert m["ece"] == pytest.approx((0.1 + 0.6 + 0.2 + 0.5 + 0.0) / 5)
    # stars at S/N ≥ 10: A0→A0 right, A0→F9 wrong letter, F5→UNKNOWN wrong (F5 at S/N 5 left out)
    assert m["n_star_snr10"] == 3
    assert m["star_letter_snr10"] == pytest.approx(1 / 3)
    assert m["argmax_star_letter_snr10"] == pytest.approx(2 / 3)


def test_ece_pools_a_bin_and_agrees_with_the_project_metric():
    probs = _probs([(A0, 0.95), (A0, 0.95)])
    m = metrics(np.array([A0, F5]), np.array([A0, A0]), probs, np.array([20.0, 20.0]))
    assert m["ece"] == pytest.approx(abs(0.5 - 0.95))
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(13, 0.3), 400)
    true_idx = rng.integers(0, 13, 400)
    m = metrics(np.asarray(CLASS_NAMES)[true_idx], np.asarray(CLASS_NAMES)[p.argmax(1)], p, np.full(400, 5.0))
    assert m["ece"] == pytest.approx(expected_calibration_error(p, true_idx, 15))


def test_confusion_has_unknown_as_its_own_column_and_tables_by_bin():
    true, pred, probs, snr = _case()
    cm = confusion(true, pred)
    assert cm["columns"] == list(CLASS_NAMES) + ["UNKNOWN"] and cm["rows"] == list(CLASS_NAMES)
    counts = np.asarray(cm["counts"])
    assert counts.sum() == 5 and counts[CLASS_NAMES.index(F5), -1] == 1 and counts[CLASS_NAMES.index(A0),
                                                                                  CLASS_NAMES.index(F9)] == 1
    s = summarise(true, pred, probs, snr, np.array(["BOSS", "DESI", "BOSS", "DESI", "LAMOST"]))
    assert [r["bin"] for r in s["by_snr"]] == ["2–5", "5–10", "10–20", "20–50"]
    assert [r["n"] for r in s["by_snr"]] == [0, 1, 2, 2]                     # 5 → 5–10, 10 → 10–20
    assert {r["survey"]: r["n"] for r in s["by_survey"]} == {"BOSS": 2, "DESI": 2, "LAMOST": 1}
    assert {(h["true"], h["pred"]) for h in s["highlights"]} == {(A0, F9), (F5, "UNKNOWN")}


def test_cli_writes_json_and_the_card_sections(monkeypatch, tmp_path):
    from astroml_core.validate import __main__ as cli
    from astroml_core.validate import spectra_card, spectra_foreign

    def small(n, *, loglam=None, progress=None):
        labels = np.array(CLASS_NAMES)
        surveys = np.array(spectra_foreign.SURVEYS)[np.arange(13) % 4]
        return spectra_foreign.make_spectra(labels, surveys, np.random.default_rng(2), loglam)

    monkeypatch.setattr(spectra_foreign, "simulate_foreign", small)
    out = tmp_path / "s.json"
    assert cli.main(["spectra-foreign", "--n", "13", "--own", "13", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    f = data["foreign"]
    assert {"overall", "by_snr", "by_survey", "by_class", "confusion", "highlights", "must_show", "seeds",
            "timing"} <= set(f)
    assert {"macro_accuracy", "accuracy", "ece", "unknown_rate", "accuracy_answered", "macro_accuracy_answered",
            "star_letter_snr10", "argmax_macro_accuracy"} <= set(f["overall"])
    assert f["overall"]["n"] == 13 and {r["survey"] for r in f["by_survey"]} == set(spectra_foreign.SURVEYS)
    assert data["own"]["overall"]["n"] == 13 and data["own"]["seed"] == 3000
    assert set(f["must_show"]) == {"macro_accuracy", "ece", "star_letter_snr10"}
    assert "Foreign set" in data["markdown"]

    folder = tmp_path / "spectra_net"
    folder.mkdir()
    shutil.copy(MODEL_DIR / "spectra_net" / "card.md", folder / "card.md")
    (folder / "weights.pt").symlink_to(MODEL_DIR / "spectra_net" / "weights.pt")
    original = (MODEL_DIR / "spectra_net" / "card.md").read_text()
    spectra_card.write_sections(data, model_dir=tmp_path)
    spectra_card.write_sections(data, model_dir=tmp_path)             # a rerun replaces, never duplicates
    front, body = read_card("spectra_net", tmp_path)
    for key in ("foreign_test", "own_by_snr"):
        assert key in front and body.count(f"<!-- section:{key} -->") == 1
    assert front["foreign_test"]["overall"]["n"] == 13 and "BOSS" in front["foreign_test"]["by_survey"]
    assert (MODEL_DIR / "spectra_net" / "card.md").read_text() == original


def test_the_real_files_section_lists_each_spectrum_and_counts_the_verdicts(tmp_path):
    from astroml_core.validate import spectra_card

    folder = tmp_path / "spectra_net"
    folder.mkdir()
    shutil.copy(MODEL_DIR / "spectra_net" / "card.md", folder / "card.md")
    (folder / "weights.pt").symlink_to(MODEL_DIR / "spectra_net" / "weights.pt")
    row = dict(file="a.fits", target="", pipeline_class="STAR", pipeline_subclass="A0", z=None, source="literature",
               note="", label="STAR_A0", our_class="STAR", p_max=0.99, reason="", verdict="agrees")
    rows = [row, dict(row, file="b|c.fits", label="UNKNOWN", p_max=None, reason="covers only 10%",
                      verdict="UNKNOWN (covers only 10%)")]
    spectra_card.write_real_section(rows, model_dir=tmp_path)
    spectra_card.write_real_section(rows, model_dir=tmp_path)
    front, body = read_card("spectra_net", tmp_path)
    assert front["real_files"]["counts"] == {"agrees": 1, "UNKNOWN": 1}
    assert [f["file"] for f in front["real_files"]["files"]] == ["a.fits", "b|c.fits"]
    assert body.count("<!-- section:real_files -->") == 1 and "b\\|c.fits" in body
