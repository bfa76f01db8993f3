"""Continuum-subtraction residuals are flagged before the HI search; noise and wide HI lines are not (issue 29)."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.sim.hi import HICubeConfig, cube_header, simulate_hi_cube
from astroml_core.sim.hi_noise import NoiseKind, correlated_noise, hanning, noise_field
from astroml_core.tasks.hi.flagging import W_MAX_KMS, residual_pixels, spot_centres

BEAM_SIGMA = 4.0 / 2.3548          # a 4 px beam
KMS = 6.3                          # SDC2's 30 kHz channels at 1.4 GHz
SHAPE = (512, 96, 96)             # a band of 3,200 km/s, as SDC2-size cubes


def _blob(y: float, x: float, shape=SHAPE[1:]) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * BEAM_SIGMA**2)).astype(np.float32)


def _noise(seed: int = 0) -> np.ndarray:
    return correlated_noise(SHAPE, BEAM_SIGMA, np.random.default_rng(seed))


def test_a_residual_rippling_across_the_band_is_flagged_and_only_around_it():
    cube = _noise()
    wave = np.sin(2 * np.pi * np.arange(SHAPE[0]) / 70.0).astype(np.float32)
    cube += 3.0 * wave[:, None, None] * _blob(40, 55)          # 3 σ a channel: the middle of 1–6 σ
    flagged = residual_pixels(cube, BEAM_SIGMA, KMS)
    assert flagged[40, 55]
    assert flagged.sum() < 0.03 * flagged.size
    (x, y), = spot_centres(flagged)
    assert abs(x - 55) < 2 and abs(y - 40) < 2


@pytest.mark.parametrize("kind", [NoiseKind(corr_beams=0.7), NoiseKind(corr_beams=1.5, hanning=True),
                                  NoiseKind(corr_beams=1.0, ripple=0.3, rfi_fraction=0.05, nan_fraction=0.03),
                                  NoiseKind(corr_beams=1.2, pb_max=3.0)])
def test_noise_of_every_training_kind_flags_nothing(kind):
    rng = np.random.default_rng(3)
    field = noise_field(kind, SHAPE, BEAM_SIGMA, np.ones(SHAPE[0]), rng)
    from astroml_core.tasks.hi.noise import normalise

    norm, _ = normalise(field.data)
    assert not residual_pixels(norm, BEAM_SIGMA, KMS).any()


def test_a_bright_hi_line_as_wide_as_the_widest_galaxy_is_not_flagged():
    cube = _noise(1)
    n_line = int(0.95 * W_MAX_KMS / KMS)                     # nearly 1,000 km/s of bright line
    line = np.zeros(SHAPE[0], np.float32)
    line[100:100 + n_line] = 5.0
    cube += hanning(line[:, None, None] * _blob(50, 50)[None])
    assert not residual_pixels(cube, BEAM_SIGMA, KMS).any()


def test_a_band_too_narrow_to_tell_a_residual_from_a_line_flags_nothing():
    cube = _noise()[:200]                                      # 200 channels: < 1,000 km/s + 64 beside it
    cube += 4.0 * np.sin(np.arange(200) / 9.0).astype(np.float32)[:, None, None] * _blob(40, 55)
    assert not residual_pixels(cube, BEAM_SIGMA, KMS).any()


def test_the_finder_blanks_a_residual_says_so_and_still_finds_the_sources(tmp_path):
    """A cube with a strong residual: without flagging its lobes are the strongest noise candidates and
    raise the bar; with it, the note names the spot and no accepted source sits on it."""
    from astroml_core.data import open_cube
    from astroml_core.tasks.hi.detect import detect

    cfg = HICubeConfig(nx=96, ny=96, n_channels=320, particles=2000, density_factor=8.0)
    data, _, truth = simulate_hi_cube(11, cfg)
    sigma = float(np.nanstd(data))
    wave = np.sin(2 * np.pi * np.arange(cfg.n_channels) / 60.0).astype(np.float32)
    data += 5.0 * sigma * wave[:, None, None] * _blob(30, 70, (cfg.ny, cfg.nx))
    path = tmp_path / "residual.fits"
    fits.PrimaryHDU(data, cube_header(cfg)).writeto(path)
    table = detect(open_cube(path), "model")
    assert any("continuum-subtraction residual" in n and "x 70, y 30" in n for n in table.meta["notes"])
    accepted = table[table["accepted"]]
    assert not np.any(np.hypot(np.asarray(accepted["x"]) - 70, np.asarray(accepted["y"]) - 30) < 4)


def _residual_cube(tmp_path, seed: int = 11, n_channels: int = 320):
    """A simulated cube with a strong residual at pixel (x 70, y 30), written to FITS: (path, data)."""
    cfg = HICubeConfig(nx=96, ny=96, n_channels=n_channels, particles=2000, density_factor=8.0)
    data, _, _ = simulate_hi_cube(seed, cfg)
    wave = np.sin(2 * np.pi * np.arange(cfg.n_channels) / 60.0).astype(np.float32)
    data += 5.0 * float(np.nanstd(data)) * wave[:, None, None] * _blob(30, 70, (cfg.ny, cfg.nx))
    path = tmp_path / "residual.fits"
    fits.PrimaryHDU(data, cube_header(cfg)).writeto(path)
    return path, data


def test_the_whole_cube_pre_pass_read_in_blocks_flags_what_one_piece_flags(tmp_path):
    """Blocks of sky (here 40 px, so the residual sits across block borders) give the one-piece flags."""
    from astroml_core.data import open_cube
    from astroml_core.tasks.hi.flagging import residual_map
    from astroml_core.tasks.hi.noise import normalise

    path, data = _residual_cube(tmp_path, n_channels=512)
    whole = residual_pixels(normalise(data)[0], BEAM_SIGMA, KMS)
    blocks = residual_map(open_cube(path), BEAM_SIGMA, KMS, block=40)
    assert whole[30, 70] and blocks[30, 70]
    # the same one spot, a seed or so more where a block's sampling grid falls otherwise, and nothing else
    assert abs(int(blocks.sum()) - int(whole.sum())) <= 0.2 * whole.sum()
    yy, xx = np.nonzero(blocks)
    assert np.hypot(xx - 70, yy - 30).max() < 12
    (x, y), = spot_centres(blocks)
    (wx, wy), = spot_centres(whole)
    assert abs(x - wx) < 1 and abs(y - wy) < 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_cube_searched_in_tiles_too_short_to_tell_a_residual_is_flagged_on_its_whole_band(tmp_path, workers):
    """160-channel tiles cannot tell a residual (< 1,000 km/s + 64 channels): the whole band is flagged before
    the tiles (by the tiles' worker processes when there are several), the note names the spot once, and no
    accepted source sits on it."""
    from astroml_core.data import open_cube
    from astroml_core.tasks.hi.tiled import detect_tiled, plan_tiles, whole_cube_residuals

    path, _ = _residual_cube(tmp_path)
    cube = open_cube(path)
    tiles = plan_tiles(cube.shape, (160, 96, 96), (48, 48, 48))
    assert len(tiles) > 1
    flags = whole_cube_residuals(cube, tiles, "model")
    assert flags is not None and flags[30, 70]
    assert whole_cube_residuals(cube, tiles, "baseline") is None
    table = detect_tiled(path if workers > 1 else cube, "model", tile=(160, 96, 96), workers=workers)
    notes = [n for n in table.meta["notes"] if "continuum-subtraction residual" in n]
    assert len(notes) == 1 and "x 70, y 30" in notes[0] and notes[0].startswith("1 continuum")
    accepted = table[table["accepted"]]
    assert not np.any(np.hypot(np.asarray(accepted["x"]) - 70, np.asarray(accepted["y"]) - 30) < 4)
