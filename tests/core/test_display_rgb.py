"""Colour composites and segmentation overlays."""
from __future__ import annotations

import numpy as np

from astroml_core.display.rgb import composite, rgba_uint32, segment_rgba


def test_composite_maps_the_reddest_band_to_red_and_one_band_to_grey():
    images = np.zeros((4, 8, 8), np.float32)
    images[3, 2, 2] = 50.0                      # only z is bright at (2, 2)
    rgb = composite(images, np.ones(4))
    assert rgb[2, 2, 0] > 10 * max(rgb[2, 2, 1], rgb[2, 2, 2], 1)   # sky sits just above black (minimum −1σ)
    grey = composite(images[3:], np.ones(1))
    assert grey[2, 2, 0] == grey[2, 2, 1] == grey[2, 2, 2] > 0


def test_rgba_packing_and_segment_overlay():
    packed = rgba_uint32(np.full((2, 2, 3), 7, np.uint8), 255)
    assert packed.dtype == np.uint32 and (packed.view(np.uint8).reshape(2, 2, 4)[..., 3] == 255).all()
    seg = np.zeros((7, 7), np.int32)
    seg[1:6, 1:4], seg[1:6, 4:6] = 1, 2
    filled = segment_rgba(seg, opacity=0.5).view(np.uint8).reshape(7, 7, 4)
    assert (filled[..., 3] > 0).sum() == (seg > 0).sum() and filled[0, 0, 3] == 0
    outline = segment_rgba(seg, contours=True).view(np.uint8).reshape(7, 7, 4)
    assert 0 < (outline[..., 3] > 0).sum() < (seg > 0).sum() and outline[3, 2, 3] == 0   # interior empty
    picked = segment_rgba(seg, highlight=2).view(np.uint8).reshape(7, 7, 4)
    assert (picked[1, 5, :3] == 255).all()     # the highlighted segment's edge is white
