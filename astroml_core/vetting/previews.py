"""Candidate previews: a few small named arrays (a cutout, a spectrum, a mask) kept as compressed npz.

Arrays rather than pictures, so the page can draw them with axes and units and a lecturer can rescale.
"""
from __future__ import annotations

import io

import numpy as np

from ..errors import InvalidVoteError

__all__ = ["encode_preview", "decode_preview", "MAX_PREVIEW_BYTES"]

MAX_PREVIEW_BYTES = 2 * 2**20


def encode_preview(**arrays: np.ndarray) -> bytes:
    """Compressed npz bytes of the named arrays (float64 stored as float32); at most 2 MB."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrays.items()})
    data = buf.getvalue()
    if len(data) > MAX_PREVIEW_BYTES:
        raise InvalidVoteError(f"a candidate preview is {len(data) / 2**20:.1f} MB; keep cutouts under 2 MB")
    return data


def decode_preview(data: bytes) -> dict[str, np.ndarray]:
    """The named arrays of a preview made by :func:`encode_preview`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}
