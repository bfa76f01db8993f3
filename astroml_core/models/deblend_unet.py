"""Two small 2-D U-Nets for deblending: a detector (galaxy centres) and a splitter (one galaxy's image).

- ``detector``: 4 scaled bands → logits of a centre heat map (a Gaussian blob at every galaxy);
- ``splitter``: a stamp centred on one detected galaxy — 4 scaled bands, a marker at its centre and
  markers at the other detected centres — → that galaxy's noiseless image in each band (in units of the
  band's sky σ, ≥ 0 through softplus). Galaxies are transparent, so overlapping light is shared by
  predicting each galaxy's own image, not by cutting the pixels between them.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["UNet2D", "Deblender"]


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class UNet2D(nn.Module):
    """Three-scale U-Net; input (B, c_in, H, W) with H, W divisible by 4, output (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, width: int = 16) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2, self.enc3 = _block(c_in, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.dec2, self.dec1 = _block(6 * w, 2 * w), _block(3 * w, w)
        self.head = nn.Conv2d(w, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([F.interpolate(e3, scale_factor=2, mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="bilinear", align_corners=False), e1], 1))
        return self.head(d1)


class Deblender(nn.Module):
    """The shipped pair: ``detector`` (bands → centre logits) and ``splitter`` (stamp → galaxy image)."""

    def __init__(self, n_bands: int = 4, width: int = 16) -> None:
        super().__init__()
        self.n_bands = n_bands
        self.detector = UNet2D(n_bands, 1, width)
        self.splitter = UNet2D(n_bands + 2, n_bands, width)

    def split(self, stamps: torch.Tensor) -> torch.Tensor:
        """Galaxy images (B, n_bands, H, W) in sky-σ units from splitter inputs (B, n_bands + 2, H, W)."""
        return F.softplus(self.splitter(stamps))

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        return self.detector(bands)
