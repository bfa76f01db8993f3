"""Which torch device the models run on: ``cuda`` when present, else the CPU with sensible threads."""
from __future__ import annotations

import os
from functools import lru_cache

__all__ = ["choose_device", "cpu_threads"]


def cpu_threads() -> int:
    """Threads for torch on the CPU: ``ASTROML_TORCH_THREADS``, else the cores this process may use."""
    env = os.environ.get("ASTROML_TORCH_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def choose_device(prefer: str | None = None):
    """The torch.device to run models on (``ASTROML_DEVICE`` or ``prefer`` may force 'cpu'/'cuda').

    torch is imported here, lazily, so pages that never run a model do not pay its import.
    """
    import torch

    wanted = prefer or os.environ.get("ASTROML_DEVICE")
    if wanted == "cuda" and not torch.cuda.is_available():
        from ..errors import AstroMLError

        raise AstroMLError("ASTROML_DEVICE=cuda but no CUDA device is available; unset it to use the CPU")
    if wanted in (None, "", "auto"):
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cpu":
        threads = cpu_threads()
        torch.set_num_threads(threads)
        if torch.get_num_interop_threads() != max(1, threads // 2):
            try:
                torch.set_num_interop_threads(max(1, threads // 2))
            except RuntimeError:  # inter-op threads can only be set before the first parallel work
                pass
    return torch.device(wanted)
