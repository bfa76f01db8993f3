"""DS9-like colour limits and stretches, built on astropy.visualization."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.visualization import (AsinhStretch, LinearStretch, LogStretch, MinMaxInterval,
                                   PercentileInterval, SqrtStretch, ZScaleInterval)

__all__ = ["INTERVALS", "STRETCHES", "DisplayImage", "limits", "stretch", "render", "colorbar_ticks"]

INTERVALS = {
    "min/max": MinMaxInterval(),
    "99.9%": PercentileInterval(99.9),
    "99.5%": PercentileInterval(99.5),
    "99%": PercentileInterval(99.0),
    "zscale": ZScaleInterval(),
}
STRETCHES = {
    "linear": LinearStretch(),
    "sqrt": SqrtStretch(),
    "log": LogStretch(a=1000),
    "asinh": AsinhStretch(a=0.1),
}


@dataclass(frozen=True)
class DisplayImage:
    """An image mapped to [0, 1] for a linear colour map, and the data limits that map to 0 and 1."""

    values: np.ndarray
    vmin: float
    vmax: float
    stretch: str


_MAX_SAMPLE = 200_000


def _sample(data: np.ndarray) -> np.ndarray:
    flat = data.ravel()
    step = max(1, flat.size // _MAX_SAMPLE)
    sample = flat[::step]
    return sample[np.isfinite(sample)]


def limits(data: np.ndarray, interval: str = "99.5%") -> tuple[float, float]:
    """(vmin, vmax) of ``data`` by the named interval, on a strided sample of ≤ 200k finite pixels."""
    if interval not in INTERVALS:
        raise ValueError(f"unknown limits '{interval}'; choose one of {list(INTERVALS)}")
    sample = _sample(data)
    if sample.size == 0:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in INTERVALS[interval].get_limits(sample))
    if not vmax > vmin:
        vmax = vmin + (abs(vmin) or 1.0) * 1e-6
    return vmin, vmax


def stretch(data: np.ndarray, vmin: float, vmax: float, name: str = "linear") -> np.ndarray:
    """Data → [0, 1] float32: clip to (vmin, vmax), normalise, apply the named stretch; NaN stays NaN."""
    if name not in STRETCHES:
        raise ValueError(f"unknown stretch '{name}'; choose one of {list(STRETCHES)}")
    x = (np.asarray(data, dtype=np.float32) - np.float32(vmin)) / np.float32(vmax - vmin)
    np.clip(x, 0, 1, out=x)
    return np.asarray(STRETCHES[name](x, clip=False), dtype=np.float32)


def render(data: np.ndarray, interval: str = "99.5%", name: str = "linear",
           vmin: float | None = None, vmax: float | None = None) -> DisplayImage:
    """Limits (given, or from ``interval``) + stretch in one call."""
    if vmin is None or vmax is None:
        vmin, vmax = limits(data, interval)
    return DisplayImage(stretch(data, vmin, vmax, name), vmin, vmax, name)


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    mag = 10 ** np.floor(np.log10(raw))
    return float(min((m * mag for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(span / s - target)))


def colorbar_ticks(vmin: float, vmax: float, name: str, scale: float = 1.0,
                   target: int = 5) -> dict[float, str]:
    """Colour-bar positions in [0, 1] → labels of round data values (× ``scale``) under the stretch."""
    step = _nice_step((vmax - vmin) * scale, target)
    values = np.arange(np.ceil(vmin * scale / step), np.floor(vmax * scale / step) + 1) * step
    pos = stretch(values / scale, vmin, vmax, name) if values.size else np.array([])
    digits = max(0, -int(np.floor(np.log10(step)))) if step < 1 else 0
    return {float(p): f"{v:.{digits}f}" for p, v in zip(pos, values)}
