"""The validation runs' JSON: numpy values made plain, NaN and inf written as null."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["plain", "write_json"]


def plain(x):
    """JSON-safe: numpy arrays and scalars to Python, NaN/inf to None."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return plain(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(summary: dict, path: str | Path) -> Path:
    """Write a summary (or a dict of summaries) as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(summary), indent=1, ensure_ascii=False))
    return path
