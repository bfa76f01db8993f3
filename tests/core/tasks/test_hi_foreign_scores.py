"""Issue 29's "Must show" on data we did not train on: the shipped hi_unet on the foreign test set
(astroml_core.validate.hi_foreign: Fourier-space noise with ACF 0.7–1.5 beams, Hanning-smoothed, 4-D with
Stokes, Polyex discs with central holes; seeds never used in training or tuning), scored by ska-sdc against
the SoFiA-style baseline on the same cubes; and pure-noise cubes of every noise kind, foreign and ours."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs import WCS

from astroml_core.registry import load_model, read_card
from astroml_core.sim.hi import HICubeConfig, cube_header
from astroml_core.sim.hi_noise import NoiseKind, make_noise
from astroml_core.tasks.hi import CubeGeometry
from astroml_core.tasks.hi.model import config_from_card, model_find
from astroml_core.validate.hi_eval import run

# 8 full-size foreign cubes and 3 noise cubes, both finders: ~5 min on 2 cores
pytestmark = pytest.mark.timeout(1800)


GAP_29 = ("issue 29, open: on the foreign set (2026-12-06) the model's pooled purity is 0.92 (its accepted S/N 5–10 "
          "detections are 65% pure: pieces of one source clipped apart, which no negative candidate mirrors), "
          "completeness above S/N 10 is 0.946, and it beats the baseline on 5 of 8 cubes")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    return run(8, noise=True, folder=tmp_path_factory.mktemp("foreign"))


@pytest.mark.xfail(reason=GAP_29, strict=False)
def test_model_purity_on_the_foreign_set_is_at_least_95_percent(foreign):
    det = sum(c["model"]["n_det"] for c in foreign["cubes"])
    match = sum(c["model"]["n_match"] for c in foreign["cubes"])
    assert det >= 100 and match / det >= 0.95, (match, det)


@pytest.mark.xfail(reason=GAP_29, strict=False)
def test_model_completeness_above_integrated_snr_10_is_at_least_95_percent(foreign):
    bright = [r for r in foreign["pooled"]["model"]["by_snr"] if r["bin"] in ("10–20", "20+")]
    n_true, n_found = sum(r["n_true"] for r in bright), sum(r["n_found"] for r in bright)
    assert n_true >= 100 and n_found / n_true >= 0.95, (n_found, n_true)


@pytest.mark.xfail(reason=GAP_29, strict=False)
def test_model_beats_the_baseline_on_every_foreign_cube(foreign):
    scores = [(c["seed"], c["model"]["score"], c["baseline"]["score"]) for c in foreign["cubes"]]
    assert len(scores) == 8
    assert all(m > b for _, m, b in scores), scores


def test_model_holds_on_the_foreign_set_where_the_old_one_fell_to_purity_066(foreign):
    """What holds today: purity ≥ 0.88, completeness above S/N 10 ≥ 0.93, and more ska-sdc score in total than
    the baseline (the full-cube finder this replaced: purity 0.66 and 35.9 against SoFiA-2's 80.9)."""
    cubes = foreign["cubes"]
    det, match = sum(c["model"]["n_det"] for c in cubes), sum(c["model"]["n_match"] for c in cubes)
    bright = [r for r in foreign["pooled"]["model"]["by_snr"] if r["bin"] in ("10–20", "20+")]
    assert match / det >= 0.88, (match, det)
    assert sum(r["n_found"] for r in bright) / sum(r["n_true"] for r in bright) >= 0.93
    model, base = (sum(c[m]["score"] for c in cubes) for m in ("model", "baseline"))
    assert model > base, (model, base)


def test_foreign_pure_noise_gives_at_most_one_detection_per_1e8_voxels(foreign):
    n = sum(r["model"]["n_false"] for r in foreign["noise"])
    voxels = sum(r["n_voxels"] for r in foreign["noise"])
    assert n / voxels * 1e8 <= 1.0, (n, voxels)


TRAINING_KINDS = {"plain ρ=0.7": NoiseKind(corr_beams=0.7), "plain ρ=1.5": NoiseKind(corr_beams=1.5),
                  "Hanning": NoiseKind(hanning=True), "ripple + RFI + blanked": NoiseKind(ripple=0.3, rfi_fraction=0.05,
                                                                                          nan_fraction=0.03),
                  "primary beam": NoiseKind(pb_max=3.0), "continuum residuals": NoiseKind(n_residuals=4)}


def test_pure_noise_of_every_training_noise_kind_gives_at_most_one_detection_per_1e8_voxels():
    front, _ = read_card("hi_unet")
    model, config = load_model("hi_unet", "cpu"), config_from_card(front)
    cfg = HICubeConfig()
    geom = CubeGeometry(cfg.frequencies_hz, cfg.pixel_arcsec, cfg.beam_arcsec, cfg.beam_arcsec, 1.42040575177e9,
                        WCS(cube_header(cfg)).celestial, float("nan"))
    found, voxels = {}, 0
    for k, (name, kind) in enumerate(TRAINING_KINDS.items()):
        data = make_noise(kind, (cfg.n_channels, cfg.ny, cfg.nx), cfg.beam_sigma_px, np.full(cfg.n_channels, 3e-5),
                          np.random.default_rng(72000 + k))
        table, _ = model_find(data, geom, model, config)
        found[name] = int(np.sum(table["accepted"]))
        voxels += data.size
    assert sum(found.values()) / voxels * 1e8 <= 1.0, found
