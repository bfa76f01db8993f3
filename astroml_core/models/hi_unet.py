"""A small 3-D U-Net for HI source masks: per-voxel source logits from a noise-normalised cube.

Efficient by design (2-core CPUs): the first convolution strides by 2 on every axis, so all the
work happens at ≤ 1/8 of the voxels, and the logits are upsampled back at the end. Three scales
(1/2, 1/4, 1/8) with a dilated convolution give a receptive field of ~60 channels × ~60 pixels,
wider than the widest HI line and the largest demo galaxy.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .protocol import Carded

__all__ = ["HIUNet"]


def _block(c_in: int, c_out: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm3d(c_out), nn.ReLU(inplace=True))


class HIUNet(nn.Module, Carded):
    """Input (B, 1, D, H, W) with D, H, W divisible by 8; output logits (B, 1, D, H, W)."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.enc1 = nn.Sequential(_block(1, w, stride=2), _block(w, w))
        self.enc2 = nn.Sequential(_block(w, 2 * w, stride=2), _block(2 * w, 2 * w, dilation=2))
        self.enc3 = nn.Sequential(_block(2 * w, 3 * w, stride=2), _block(3 * w, 3 * w, dilation=2))
        self.dec2 = _block(5 * w, 2 * w)
        self.dec1 = _block(3 * w, w)
        self.head = nn.Conv3d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[2:], mode="trilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[2:], mode="trilinear", align_corners=False), e1], 1))
        return F.interpolate(self.head(d1), size=x.shape[2:], mode="trilinear", align_corners=False)

    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """(per-voxel source logits (B, 1, D, H, W),) of a noise-normalised cube (B, 1, D, H, W)."""
        return (self(x),)
