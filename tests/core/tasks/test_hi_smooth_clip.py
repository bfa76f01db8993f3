"""The fast classic stages equal their plain versions: S+C masks, per-channel normalisation, the linker;
the spatial noise map follows a primary-beam-like σ(x, y)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from astroml_core.tasks.hi.linker import grow, link
from astroml_core.tasks.hi.measure import FWHM
from astroml_core.tasks.hi.noise import normalise, robust_sigma, spatial_noise_map
from astroml_core.tasks.hi.smooth_clip import smooth_and_clip


def _cube(seed=0, shape=(64, 48, 40)):
    """Beam-correlated noise with a few bright and faint blobs (float32)."""
    rng = np.random.default_rng(seed)
    cube = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), (0, 1.0, 1.0))
    cube /= cube.std()
    for c, y, x, a in ((20, 10, 10, 3.0), (40, 30, 25, 1.2), (5, 40, 35, -2.5)):
        cube[c - 3:c + 4, y - 2:y + 3, x - 2:x + 3] += a
    return cube


def _plain_clip(norm, beam_px, spatial, spectral, threshold, sample):
    """The S+C masks the straightforward way: every smoothed cube in full, then clipped."""
    pos, neg = np.zeros(norm.shape, bool), np.zeros(norm.shape, bool)
    n = norm.shape[0]
    for s in spatial:
        sig = s * beam_px / FWHM
        sm = ndimage.gaussian_filter(norm, (0, sig, sig), mode="constant") if s > 0 else norm
        csum = np.zeros((n + 1,) + norm.shape[1:], np.float32)
        np.cumsum(sm, axis=0, out=csum[1:])
        for w in spectral:
            if w > 1:
                lo = np.clip(np.arange(n) - w // 2, 0, n)
                hi = np.clip(np.arange(n) + (w - w // 2), 0, n)
                cube = csum[hi] - csum[lo]
                cube /= np.float32(w)
            else:
                cube = sm
            level = threshold * robust_sigma(cube, sample)
            pos |= cube > level
            neg |= cube < -level
    return pos, neg


@pytest.mark.parametrize("sample", [1_000_000, 5_000])
def test_smooth_and_clip_equals_the_plain_computation(sample):
    norm = _cube()
    kw = dict(spatial_fwhm_beams=(0.0, 1.0, 2.0), spectral_channels=(0, 3, 7, 15), threshold=4.0, sample=sample)
    fractions = []
    pos, neg = smooth_and_clip(norm, 2.5, progress=lambda f, message="": fractions.append(f), **kw)
    ref_pos, ref_neg = _plain_clip(norm, 2.5, kw["spatial_fwhm_beams"], kw["spectral_channels"], 4.0, sample)
    assert np.array_equal(pos, ref_pos) and np.array_equal(neg, ref_neg)
    assert pos[20, 10, 10] and neg[5, 40, 35] and not pos[5, 40, 35]
    assert fractions[-1] == 1.0 and len(fractions) == 12


def test_smooth_and_clip_is_symmetric_in_sign():
    norm = _cube(1)
    pos, neg = smooth_and_clip(norm, 2.5)
    pos_flipped, neg_flipped = smooth_and_clip(-norm, 2.5)
    assert np.array_equal(pos, neg_flipped) and np.array_equal(neg, pos_flipped)


def test_normalise_per_channel_sigma_nan_and_bad_channels():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((40, 64, 64), dtype=np.float32) * np.linspace(1, 3, 40, dtype=np.float32)[:, None, None]
    data[3, 5, 5] = np.nan
    data[7] = np.nan                                     # a blanked channel
    norm, sigma = normalise(data)
    assert norm.dtype == np.float32 and sigma.dtype == np.float32 and np.isfinite(norm).all()
    assert norm[3, 5, 5] == 0 and (norm[7] == 0).all()
    expected = np.array([robust_sigma(ch, 1_000_000 // 40) for ch in data], np.float32)
    good = np.isfinite(expected)
    assert np.array_equal(sigma[good], expected[good])
    assert sigma[7] == np.median(expected[good])
    assert np.array_equal(norm[0], np.nan_to_num(data[0] / sigma[0]))   # uniform field: no spatial map applied


def test_spatial_noise_map_follows_a_primary_beam_and_normalise_divides_it_out():
    rng = np.random.default_rng(3)
    ny = nx = 128
    yy, xx = np.mgrid[:ny, :nx]
    r2 = ((yy - ny / 2) ** 2 + (xx - nx / 2) ** 2) / (ny / 2) ** 2
    pb = np.exp(0.5 * r2).astype(np.float32)             # σ rises ×1.65 toward the field's edge, as after PB correction
    data = rng.standard_normal((64, ny, nx), dtype=np.float32) * pb
    data[:, :8, :8] = np.nan                             # a blanked corner
    flat, _ = normalise(np.nan_to_num(rng.standard_normal((64, ny, nx), dtype=np.float32)))
    uniform = spatial_noise_map(flat)
    assert uniform.shape == (ny, nx) and uniform.dtype == np.float32
    assert np.abs(uniform - 1).max() < 0.05
    norm, sigma = normalise(data)
    raw = data / sigma[:, None, None]
    factor = spatial_noise_map(np.nan_to_num(raw), block=16)
    assert np.median(factor) == pytest.approx(1, abs=1e-6)
    truth = pb / np.median(pb)
    inner = (yy > 16) & (yy < ny - 16) & (xx > 16) & (xx < nx - 16)
    assert np.abs(factor[inner] / truth[inner] - 1).max() < 0.1
    edge = robust_sigma(norm[:, 100:, 100:])
    centre = robust_sigma(norm[:, 48:80, 48:80])
    assert edge == pytest.approx(centre, rel=0.1)
    assert robust_sigma(raw[:, 100:, 100:]) > 1.5 * robust_sigma(raw[:, 48:80, 48:80])


def _plain_link(mask, rc, rp, min_chan, min_px):
    """The linker the straightforward way: label the box-dilated mask, keep large enough parts."""
    grown, _ = ndimage.label(grow(mask, rc, rp))
    labels = np.where(mask, grown, 0)
    keep = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        m = labels[sl] == k
        if m.any(axis=(1, 2)).sum() >= min_chan and m.any(axis=0).sum() >= min_px:
            keep.append(k)
    lut = np.zeros(int(labels.max()) + 1, np.int32)
    lut[keep] = np.arange(1, len(keep) + 1)
    return lut[labels], len(keep)


@pytest.mark.parametrize("radii", [(4, 2), (0, 1), (1, 0), (2, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_link_equals_labelling_the_dilated_mask(radii, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((60, 50, 40)) < 0.004                              # specks
    mask |= ndimage.binary_dilation(rng.random(mask.shape) < 2e-4, np.ones((5, 3, 3)))   # blobs
    mask[10:30, 20:35, 5:9] = rng.random((20, 15, 4)) < 0.5                # a large ragged source
    labels, n = link(mask, radii[0], radii[1], 3, 4)
    ref, n_ref = _plain_link(mask, radii[0], radii[1], 3, 4)
    assert n == n_ref > 0
    assert np.array_equal(labels, ref)


def test_link_of_an_empty_mask():
    labels, n = link(np.zeros((5, 6, 7), bool), 4, 2, 3, 4)
    assert n == 0 and labels.shape == (5, 6, 7) and not labels.any()
