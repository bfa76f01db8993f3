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

from .protocol import Carded

__all__ = ["UNet2D", "Deblender"]


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class UNet2D(nn.Module):
    """U-Net with ``depth`` scales (channels width·2^k); input (B, c_in, H, W) with H, W divisible by
    2^(depth − 1), output (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        chans = [width * 2**k for k in range(depth)]
        self.down = nn.ModuleList([_block(a, b) for a, b in zip([c_in] + chans[:-1], chans)])
        self.up = nn.ModuleList([_block(hi + lo, lo) for hi, lo in zip(chans[:0:-1], chans[-2::-1])])
        self.head = nn.Conv2d(width, c_out, 1)
        self.multiple = 2 ** (depth - 1)          # image sides must be multiples of this

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, skips[-2::-1]):
            x = block(torch.cat([F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), skip], 1))
        return self.head(x)


class Deblender(nn.Module, Carded):
    """The shipped pair: ``detector`` (bands → centre logits) and ``splitter`` (stamp → galaxy image)."""

    def __init__(self, n_bands: int = 4, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.n_bands = n_bands
        self.detector = UNet2D(n_bands, 1, width, depth)
        self.splitter = UNet2D(n_bands + 2, n_bands, width, depth)

    def split(self, stamps: torch.Tensor) -> torch.Tensor:
        """Galaxy images (B, n_bands, H, W) in sky-σ units from splitter inputs (B, n_bands + 2, H, W)."""
        return F.softplus(self.splitter(stamps))

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        return self.detector(bands)

    def predict(self, bands: torch.Tensor, stamps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(centre logits (B, 1, H, W) of scaled bands (B, n_bands, H, W), galaxy images of splitter stamps)."""
        return self(bands), self.split(stamps)
