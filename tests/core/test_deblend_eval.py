"""Issue 30's runner: sep's isophotal fluxes, scores by blendedness on foreign / own fields, the card sections."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from astroml_core.metrics.deblend import known_shape_fluxes
from astroml_core.registry import MODEL_DIR, read_card
from astroml_core.sim.blends import BlendConfig, simulate_blends
from astroml_core.tasks.deblend.classic import sep_deblend, sep_isophotal
from astroml_core.validate import deblend_eval
from astroml_core.validate.deblend_eval import BLEND_BINS, METHODS, EvalField, run


def test_isophotal_flux_is_the_segment_sum_and_misses_the_wings():
    sim = simulate_blends(3, BlendConfig(group_size=(1, 1), mag_range=(19.0, 19.3)))
    cat, seg = sep_isophotal(sim.images, sim.config.bands)
    auto, _ = sep_deblend(sim.images, sim.config.bands)
    assert len(cat) == 1 and set(cat.colnames) >= {"id", "x", "y", "flux_g", "flux_r", "flux_i", "flux_z"}
    assert "flux_iso_r" in auto.colnames and "flux_err_r" in auto.colnames      # AUTO keeps its columns
    for b, band in enumerate(sim.config.bands):
        segment_sum = float(sim.images[b][seg == 1].sum())
        assert float(cat[f"flux_{band}"][0]) == pytest.approx(segment_sum, rel=0.02)
        assert float(cat[f"flux_{band}"][0]) == pytest.approx(float(auto[f"flux_iso_{band}"][0]), rel=1e-9)
        # an extended galaxy's isophote misses its wings: below AUTO and below the truth
        assert float(cat[f"flux_{band}"][0]) < float(auto[f"flux_{band}"][0])
        assert float(cat[f"flux_{band}"][0]) < float(sim.truth[f"flux_{band}"][0])


def _crowded(seed: int) -> EvalField:
    """A 128 × 128 field of 10 groups from our simulator, as the runner takes it."""
    cfg = BlendConfig(nx=128, ny=128, n_groups=10)
    sim = simulate_blends(seed, cfg)
    return EvalField(seed, sim.images, sim.isolated, sim.truth, np.asarray(cfg.sky_sigma), cfg.bands, sim.wcs,
                     cfg.pixel_arcsec, cfg.psf_fwhm_arcsec, known_shape_fluxes(sim.isolated, sim.images))


@pytest.fixture(scope="module")
def summary():
    return run([11, 12], source=_crowded)


def test_runner_tables_have_the_documented_keys(summary):
    assert [r["bin"] for r in summary["tables"]] == [b[0] for b in BLEND_BINS]
    assert len(summary["fields"]) == 2 and summary["bands"] == ["g", "r", "i", "z"]
    for row in summary["tables"]:
        assert set(row) == {"bin", "n", "completeness", "flux"}
        assert set(row["completeness"]) == set(METHODS)
        for c in row["completeness"].values():
            assert c is None or 0.0 <= c <= 1.0
        assert set(row["flux"]) == set(METHODS) | {"floor"}
        for per in row["flux"].values():
            assert set(per) == {"g", "r", "i", "z", "all"}
            assert all(set(s) == {"n", "median_abs", "bias", "mape"} for s in per.values())
    pooled = {r["bin"]: r for r in summary["tables"]}
    assert pooled["blended > 0.1"]["n"] == sum(pooled[b]["n"] for b in ("0.1–0.3", "0.3–0.6", "> 0.6"))
    v = summary["verdict"]
    assert set(v) >= {"isolated", "blended", "completeness", "targets"}
    assert set(v["isolated"]["r"]) == {"model_over_floor", "bias", "ok"}
    assert set(v["blended"]["r"]) == {"model_over_best_sep", "model_over_floor", "ok"}
    rec = summary["fields"][0]
    assert rec["seconds"]["model"] > 0 and isinstance(rec["notes"], (list, str))
    assert summary["notes"]["fields"] == 2
    assert "| blendedness |" in summary["markdown"] and "Verdict" in summary["markdown"]


def test_floor_beats_sep_on_bright_isolated_galaxies(summary):
    iso = next(r for r in summary["tables"] if r["bin"] == BLEND_BINS[0][0])
    assert iso["n"] >= 3
    floor, sep = iso["flux"]["floor"]["all"], iso["flux"]["sep_auto"]["all"]
    assert floor["median_abs"] < sep["median_abs"] and floor["mape"] < sep["mape"]


def test_own_held_out_fields_run_and_json_is_plain(tmp_path):
    s = run([2000], source="own")
    assert s["test_set"] == "own" and s["fields"][0]["n_true"] >= 2
    path = deblend_eval.write_json(dict(own=s), tmp_path / "x.json")
    assert '"own"' in path.read_text() and "NaN" not in path.read_text()


def test_card_sections_go_into_a_copy_of_the_card(tmp_path, summary):
    from astroml_core.validate.deblend_card import write_sections

    folder = tmp_path / "deblend_unet"
    folder.mkdir()
    shutil.copy(MODEL_DIR / "deblend_unet" / "card.md", folder / "card.md")
    (folder / "weights.pt").symlink_to(MODEL_DIR / "deblend_unet" / "weights.pt")
    original = (MODEL_DIR / "deblend_unet" / "card.md").read_text()
    real = [dict(file="x.fits", bands=["r"], shape=[8, 8], model=dict(error="ShapeError: one band"),
                 sep=dict(sources=1, seconds=0.1, notes=[], image_notes=[]))]
    write_sections(summary, summary, real, model_dir=tmp_path)
    write_sections(summary, summary, real, model_dir=tmp_path)           # replaced in place on a rerun
    front, body = read_card("deblend_unet", tmp_path)
    for key in ("foreign_test", "own_by_blendedness", "real_files"):
        assert key in front and body.count(f"<!-- section:{key} -->") == 1
    assert front["foreign_test"]["verdict"]["isolated"]["r"].keys() >= {"model_over_floor", "bias"}
    assert front["real_files"]["files"][0]["file"] == "x.fits"
    assert (MODEL_DIR / "deblend_unet" / "card.md").read_text() == original


def test_cli_parses_deblend_foreign(monkeypatch, tmp_path):
    from astroml_core.validate import __main__ as cli

    calls = []
    fake = dict(markdown="table\n", seeds=[1])
    monkeypatch.setattr(deblend_eval, "run", lambda seeds, **kw: calls.append((tuple(seeds), kw["source"])) or fake)
    out = tmp_path / "d.json"
    assert cli.main(["deblend-foreign", "--fields", "2", "--own", "3", "-o", str(out)]) == 0
    assert [c[1] for c in calls] == ["foreign", "own"] and len(calls[0][0]) == 2 and len(calls[1][0]) == 3
    assert out.exists()


def test_foreign_field_gives_the_runner_what_it_needs():
    from astroml_core.validate.deblend_foreign import FOREIGN_SEEDS

    f = deblend_eval.foreign_field(FOREIGN_SEEDS[0])
    n = len(f.truth)
    assert f.images.shape[0] == 4 and f.isolated.shape == (n,) + f.images.shape
    assert f.floor.shape == (n, 4) and f.sigma.shape == (4,) and len(f.psf_fwhm_arcsec) == 4
    assert np.allclose(deblend_eval.snr_r(f.isolated, f.sigma, f.bands), f.truth["snr_r"], rtol=1e-3)
