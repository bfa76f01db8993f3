"""Deblending with the shipped networks: centres from the detector's heat map, then each galaxy's own
image from the splitter on a stamp centred on it. Photometry conserves the data's flux: inside a galaxy's
footprint each observed pixel is shared between the galaxies by their predicted images (scarlet's
re-distribution), outside it the prediction fills in the faint wings. Masks are where a galaxy's image
outshines the others' above the detection threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable
from astropy.wcs import WCS
from scipy import ndimage

from .classic import THRESH, _catalogue
from .detection import band_noise

__all__ = ["DeblendResult", "scale", "scaled_bands", "markers", "find_peaks", "cut_stamp", "splitter_input", "model_deblend",
           "summed_image", "predicted_blendedness", "conserved_fluxes", "footprint", "STAMP", "MARKER_SIGMA"]

STAMP = 64            # splitter stamp (px): a 2.5" galaxy with its PSF wings fits
MARKER_SIGMA = 1.2    # px, the Gaussian that marks a centre in heat maps and splitter inputs
FOOTPRINT_GROW = 2    # px by which a source's photometry footprint is grown beyond its faint isophote


@dataclass(frozen=True)
class DeblendResult:
    """Catalogue, segmentation map (0 sky, i + 1 for row i) and each source's deblended stamp.

    ``stamps`` is (n, n_bands, STAMP, STAMP) in the image's units; stamp i's pixel (0, 0) sits at
    ``origins[i]`` = (y0, x0) of the image.
    """

    catalogue: QTable
    segmap: np.ndarray
    stamps: np.ndarray
    origins: np.ndarray


def scale(x: np.ndarray) -> np.ndarray:
    """Network input scaling of images in sky-σ units: asinh(x / 3), linear in the noise, log-like above."""
    return np.arcsinh(np.nan_to_num(x) / 3.0).astype(np.float32)


def scaled_bands(images: np.ndarray, sigma=None) -> tuple[np.ndarray, np.ndarray]:
    """(sky σ per band, the bands in σ units through :func:`scale`): the networks' input. σ is measured
    when not given; a missing or non-positive σ counts as 1."""
    sigma = band_noise(images) if sigma is None else np.asarray(sigma, np.float32)
    sigma = np.where(np.isfinite(sigma) & (sigma > 0), sigma, 1.0).astype(np.float32)
    return sigma, scale(np.nan_to_num(images / sigma[:, None, None]).astype(np.float32))


def markers(shape: tuple[int, int], points: np.ndarray, sigma: float = MARKER_SIGMA) -> np.ndarray:
    """A map with a unit Gaussian at each (x, y) point (maximum, not sum, where they overlap)."""
    out = np.zeros(shape, np.float32)
    yy, xx = np.indices(shape, dtype=np.float32)
    for x, y in np.asarray(points, float).reshape(-1, 2):
        r = int(np.ceil(4 * sigma))
        y0, y1 = max(int(y) - r, 0), min(int(y) + r + 2, shape[0])
        x0, x1 = max(int(x) - r, 0), min(int(x) + r + 2, shape[1])
        if y0 >= y1 or x0 >= x1:
            continue
        blob = np.exp(-((xx[y0:y1, x0:x1] - x) ** 2 + (yy[y0:y1, x0:x1] - y) ** 2) / (2 * sigma**2))
        np.maximum(out[y0:y1, x0:x1], blob, out=out[y0:y1, x0:x1])
    return out


def find_peaks(heat: np.ndarray, threshold: float = 0.5, min_distance: int = 1) -> np.ndarray:
    """(x, y, peak value) of local maxima above ``threshold`` (maxima of their (2·min_distance + 1)² box: 3×3
    keeps galaxies 2 px apart, which the detector's last stage learnt to separate), refined by a 3×3 intensity centroid."""
    local = ndimage.maximum_filter(heat, size=2 * min_distance + 1, mode="constant")
    ys, xs = np.nonzero((heat == local) & (heat > threshold))
    out = []
    for y, x in zip(ys, xs):
        y0, y1, x0, x1 = max(y - 1, 0), min(y + 2, heat.shape[0]), max(x - 1, 0), min(x + 2, heat.shape[1])
        w = heat[y0:y1, x0:x1]
        gy, gx = np.mgrid[y0:y1, x0:x1]
        out.append(((gx * w).sum() / w.sum(), (gy * w).sum() / w.sum(), heat[y, x]))
    return np.array(out, float).reshape(-1, 3)


def cut_stamp(image: np.ndarray, x: float, y: float, size: int = STAMP) -> tuple[np.ndarray, tuple[int, int]]:
    """A (..., size, size) cut-out whose centre pixel holds (x, y), zero-padded off the image; and its (y0, x0)."""
    y0, x0 = int(round(y)) - size // 2, int(round(x)) - size // 2
    out = np.zeros(image.shape[:-2] + (size, size), image.dtype)
    ny, nx = image.shape[-2:]
    sy, sx = slice(max(y0, 0), min(y0 + size, ny)), slice(max(x0, 0), min(x0 + size, nx))
    if sy.start < sy.stop and sx.start < sx.stop:
        out[..., sy.start - y0:sy.stop - y0, sx.start - x0:sx.stop - x0] = image[..., sy, sx]
    return out, (y0, x0)


def splitter_input(scaled: np.ndarray, centres: np.ndarray, k: int, size: int = STAMP) -> tuple[np.ndarray, tuple[int, int]]:
    """Splitter input for source k: its stamp of the scaled bands + a marker at k + markers at the others."""
    x, y = centres[k]
    bands, (y0, x0) = cut_stamp(scaled, x, y, size)
    local = np.asarray(centres, float) - [x0, y0]
    others = np.delete(local, k, axis=0)
    return np.concatenate([bands, markers((size, size), local[k:k + 1])[None],
                           markers((size, size), others)[None]]), (y0, x0)


def _on_image(origin, shape: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """(image rows, image columns, stamp rows, stamp columns) where a stamp at ``origin`` overlaps the image."""
    y0, x0 = origin
    sy, sx = slice(max(y0, 0), min(y0 + STAMP, shape[0])), slice(max(x0, 0), min(x0 + STAMP, shape[1]))
    return sy, sx, slice(sy.start - y0, sy.stop - y0), slice(sx.start - x0, sx.stop - x0)


def summed_image(stamps: np.ndarray, origins: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Every stamp (source, band, STAMP, STAMP) added onto a (band, y, x) grid at its origin."""
    out = np.zeros((stamps.shape[1],) + tuple(shape), np.float32)
    for origin, stamp in zip(origins, stamps):
        sy, sx, ty, tx = _on_image(origin, shape)
        out[:, sy, sx] += stamp[:, ty, tx]
    return out


def predicted_blendedness(stamps: np.ndarray, origins: np.ndarray, shape: tuple[int, int], bands) -> np.ndarray:
    """Each source's blendedness β = 1 − Σ I_k² / Σ I_k · I_all (Bosch+18, as the simulator's truth) from the
    deblended images on the image, in r + i (every band when either is missing): 0 alone, → 1 buried."""
    pick = [list(bands).index(b) for b in ("r", "i")] if {"r", "i"} <= set(bands) else list(range(len(bands)))
    light = stamps[:, pick].sum(axis=1, keepdims=True)
    total = summed_image(light, origins, shape)[0]
    out = np.zeros(len(stamps))
    for k, (origin, own) in enumerate(zip(origins, light[:, 0])):
        sy, sx, ty, tx = _on_image(origin, shape)
        mine = own[ty, tx].astype(np.float64)
        cross = float((mine * total[sy, sx]).sum())
        out[k] = 1 - float((mine ** 2).sum()) / cross if cross > 0 else 0.0
    return out


def footprint(own_sigma: np.ndarray) -> np.ndarray:
    """Where a source's photometry reads the data: its predicted light (band, y, x in sky-σ units) summed over the
    bands above half the detection threshold, grown by FOOTPRINT_GROW px. Chosen on randomised and default tuning
    fields: the mask's own isophote (the full threshold, not grown) left 1.3–1.4× the error on isolated galaxies."""
    inside = own_sigma.sum(axis=0) > THRESH * np.sqrt(len(own_sigma)) / 2
    return ndimage.binary_dilation(inside, iterations=FOOTPRINT_GROW) if inside.any() else inside


def conserved_fluxes(images: np.ndarray, stamps: np.ndarray, origins: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """(source, band) fluxes that keep the data's flux: inside each source's :func:`footprint` the observed pixels
    times its share of the predicted light, outside it (and on NaN pixels) its predicted image. An isolated
    galaxy's flux is then the data's, not the network's guess (scarlet's re-distribution of the observed flux)."""
    shape = images.shape[-2:]
    total = summed_image(stamps, origins, shape)
    data = np.where(np.isfinite(images), images, np.nan)
    out = np.zeros(stamps.shape[:2])
    inv_sigma = (1.0 / np.asarray(sigma, np.float32))[:, None, None]
    for k, (origin, own) in enumerate(zip(origins, stamps)):
        sy, sx, ty, tx = _on_image(origin, shape)
        mine = own[:, ty, tx].astype(np.float64)
        light = total[:, sy, sx].astype(np.float64)
        observed = data[:, sy, sx].astype(np.float64)
        share = np.divide(mine, light, out=np.zeros_like(mine), where=light > 0)
        shared = np.where(np.isfinite(observed), observed * share, mine)
        inside = footprint(mine * inv_sigma)
        out[k] = np.where(inside[None], shared, mine).sum(axis=(1, 2)) + (own.sum(axis=(1, 2)) - mine.sum(axis=(1, 2)))
    return out


def _pad(a: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Zero-pad the last two axes up to a multiple of the U-Net's coarsest scale; and the original (ny, nx)."""
    ny, nx = a.shape[-2:]
    py, px = -ny % multiple, -nx % multiple
    return np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, py), (0, px)]), (ny, nx)


def model_deblend(images: np.ndarray, bands, model, *, wcs: WCS | None = None, sigma=None,
                  threshold: float = 0.5, batch: int = 64) -> DeblendResult:
    """Detect, split and measure every galaxy in ``images`` (band, y, x) with the shipped Deblender."""
    import torch

    sigma, scaled = scaled_bands(images, sigma)
    device = next(model.parameters()).device
    padded, (ny, nx) = _pad(scaled, model.detector.multiple)
    with torch.inference_mode():
        heat = torch.sigmoid(model(torch.from_numpy(padded)[None].to(device)))[0, 0, :ny, :nx].cpu().numpy()
    peaks = find_peaks(heat, threshold)
    centres = peaks[:, :2]
    n = len(centres)
    stamps = np.zeros((n, len(bands), STAMP, STAMP), np.float32)
    origins = np.zeros((n, 2), int)
    inputs = []
    for k in range(n):
        x_in, origins[k] = splitter_input(scaled, centres, k)
        inputs.append(x_in)
    with torch.inference_mode():
        for start in range(0, n, batch):
            block = torch.from_numpy(np.stack(inputs[start:start + batch])).to(device)
            stamps[start:start + batch] = model.split(block).cpu().numpy()
    stamps *= sigma[None, :, None, None]          # back to the image's units
    flux = conserved_fluxes(images, stamps, origins, sigma)
    fluxes = {b: flux[:, i] for i, b in enumerate(bands)}
    table = _catalogue(centres[:, 0], centres[:, 1], fluxes, wcs)
    table["score"] = peaks[:, 2]
    table["blendedness"] = predicted_blendedness(stamps, origins, (ny, nx), bands)
    return DeblendResult(table, _segmentation(stamps / sigma[None, :, None, None], origins, (ny, nx)), stamps, origins)


def _segmentation(stamps_sigma: np.ndarray, origins: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Each pixel to the source whose predicted detection-image light is largest there, where the
    predicted total exceeds the detection threshold (the truth's definition, so IoU compares like with like)."""
    n_bands = stamps_sigma.shape[1]
    best = np.zeros(shape, np.float32)
    total = np.zeros(shape, np.float32)
    seg = np.zeros(shape, np.int32)
    for k, (origin, stamp) in enumerate(zip(origins, stamps_sigma.sum(axis=1))):
        sy, sx, ty, tx = _on_image(origin, shape)
        part = stamp[ty, tx]
        total[sy, sx] += part
        better = part > best[sy, sx]
        seg[sy, sx][better] = k + 1
        best[sy, sx] = np.maximum(best[sy, sx], part)
    return np.where(total > THRESH * np.sqrt(n_bands), seg, 0)
