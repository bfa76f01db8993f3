"""Honest progress for HI detection: every phase of a run moves the bar by its share of the time.

Why (issue 34): the bar jumped 0.4 → 0.55 → 0.7 → 0.8 → 1.0 with one text for the whole run, and sat at
80% while every source was characterised. Here a run is a list of phases, each with an estimated cost
in seconds (:func:`model_costs`, :func:`baseline_costs`: per voxel, per candidate and per source, measured
on the demo cube on a busy 2-core machine; only their ratios matter). A phase gets the share of what is
left of the bar that its cost is of the costs still to come, and moves within it (per kernel, batch of
candidates, source or tile) with a text saying what runs ("characterising source 12 of 140"). When a run
learns its sizes (candidates, sources) the phases still to come are re-costed, which re-shares only the
bar that is left, so the fraction never goes back.

Where the time goes on the 512 × 256 × 256 demo cube (model, 135 candidates, 17 sources, 21 s on a quiet
moment, 31 s busy): hi_unet scoring the candidates 33%, smooth-and-clip 18–23%, disc fits 14–17% (0.17–0.32 s
a source), loading hi_unet 10–12% (the first run in a process), linking 7%, normalising 3%, measuring on the
masks 1–2%; merging accepted pieces took 9% (1.3–2.5 s) until it worked on the mask's voxels alone (0.1–0.3 s).
The old bar's 80% → 100% was the disc fits: ~3–6 s here, a minute or more for a cube with hundreds of sources.
"""
from __future__ import annotations

import numpy as np

from ...progress import Progress, quiet

__all__ = ["Report", "Phases", "quiet", "counted", "scoring", "model_costs", "baseline_costs", "tile_costs"]

Report = Progress      # the core's one progress type, under the name this package has used

# seconds per unit, measured on the demo cube (512 × 256 × 256, 17 sources) and a 160 × 96 × 96 one, 2 busy cores
PER_VOXEL = dict(read=1.5e-8, normalise=2.0e-8, smooth_kernel=7.5e-9, link=2.2e-8, merge=1e-8, kde=1e-9)
PER_SAMPLED_VOXEL = 7e-8   # each kernel's robust σ, from a sample of at most ~1.5 million voxels
PER_CANDIDATE = 0.035      # hi_unet on a 48 × 40 × 40 cutout, batched on the CPU
PER_BATCH = 0.1            # and per batch of 16
PER_SOURCE_MEASURE = 0.06
PER_SOURCE_FIT = 0.25
LOAD_MODEL_S = 2.5         # torch and the weights, the first time in a process
LOAD_BASELINE_S = 1.2      # scipy.stats (the baseline's reliability KDE), the first time in a process
CANDIDATES_PER_VOXEL = 2e-6   # before a run has counted its own (both signs alike)
SOURCES_PER_VOXEL = 5e-7


class Phases:
    """One progress report over named phases run in order, each given its estimated cost (seconds).

    ``start(name, text)`` begins a phase and returns its report ``(fraction within the phase, text)``;
    phases never started give their share to the rest; :meth:`cost` re-costs phases not yet started.
    """

    def __init__(self, progress: Report, costs: dict[str, float]) -> None:
        self._progress = progress
        self._costs = {k: max(float(v), 0.0) for k, v in costs.items()}
        self._order = list(costs)
        self._next = 0                    # index of the first phase not yet started
        self._at, self._lo, self._span, self._text = 0.0, 0.0, 0.0, ""

    def cost(self, **costs: float) -> None:
        """New estimates for phases not yet started (a run has counted its candidates or sources)."""
        for name, seconds in costs.items():
            if self._order.index(name) >= self._next:
                self._costs[name] = max(float(seconds), 0.0)

    def start(self, name: str, text: str) -> Report:
        """Begin phase ``name``: its span is its cost's share of what is left of the bar."""
        i = self._order.index(name)
        rest = sum(self._costs[k] for k in self._order[i:])
        self._next = i + 1
        self._lo = self._at = max(self._at, self._lo + self._span)     # the phase before has ended
        share = self._costs[name] / rest if rest > 0 else (1.0 if i == len(self._order) - 1 else 0.0)
        self._span = (1.0 - self._at) * share
        self._text = text
        self.report(0.0)
        return self.report

    def report(self, fraction: float, text: str | None = None) -> None:
        """``fraction`` of the current phase done; ``text`` replaces the phase's text when given."""
        at = self._lo + self._span * min(max(float(fraction), 0.0), 1.0)
        self._at = max(self._at, at)
        self._progress(self._at, text or self._text)

    def done(self, text: str = "done") -> None:
        """The run has ended: the bar is full."""
        self._at = 1.0
        self._progress(1.0, text)


def counted(report: Report, n: int, text: str) -> Report:
    """``report`` as heard by a loop over ``n`` things, in the caller's words: ``text`` with {k} and {n}."""
    return lambda f, message="": report(f, text.format(k=min(n, round(f * n)), n=n))


def _smoothing(n_voxels: int, n_kernels: int) -> float:
    """Seconds of smooth-and-clip: each kernel's pass over the cube and its σ from a sample."""
    return n_kernels * (PER_VOXEL["smooth_kernel"] * n_voxels + PER_SAMPLED_VOXEL * min(n_voxels, 1_500_000))


def scoring(n_candidates: float) -> float:
    """Seconds of hi_unet scoring ``n_candidates`` candidates in batches of 16."""
    return PER_CANDIDATE * n_candidates + PER_BATCH * np.ceil(n_candidates / 16)


def model_costs(n_voxels: int, n_kernels: int = 12, n_candidates: float | None = None,
                n_sources: float | None = None) -> dict[str, float]:
    """Estimated seconds of each phase of :func:`.model.model_find` on a cube (tile) of ``n_voxels``."""
    cands = CANDIDATES_PER_VOXEL * n_voxels if n_candidates is None else n_candidates
    sources = SOURCES_PER_VOXEL * n_voxels if n_sources is None else n_sources
    return dict(normalise=PER_VOXEL["normalise"] * n_voxels,
                smooth=_smoothing(n_voxels, n_kernels),
                link_pos=PER_VOXEL["link"] * n_voxels, score_pos=scoring(cands),
                link_neg=PER_VOXEL["link"] * n_voxels, score_neg=scoring(cands),
                merge=PER_VOXEL["merge"] * n_voxels, measure=PER_SOURCE_MEASURE * sources,
                characterise=PER_SOURCE_FIT * sources, finish=0.05)


def baseline_costs(n_voxels: int, n_kernels: int = 12, n_sources: float | None = None) -> dict[str, float]:
    """Estimated seconds of each phase of :func:`.sofia.sofia_find` on a cube (tile) of ``n_voxels``."""
    sources = SOURCES_PER_VOXEL * n_voxels if n_sources is None else n_sources
    return dict(normalise=PER_VOXEL["normalise"] * n_voxels,
                smooth=_smoothing(n_voxels, n_kernels),
                link=2 * PER_VOXEL["link"] * n_voxels, reliability=PER_VOXEL["kde"] * n_voxels,
                measure=PER_SOURCE_MEASURE * sources, characterise=PER_SOURCE_FIT * sources)


def tile_costs(n_voxels: int, method: str, loaded: bool) -> dict[str, float]:
    """Estimated seconds of reading a tile, loading the finder (unless ``loaded`` in this process) and searching it."""
    search = model_costs(n_voxels) if method == "model" else baseline_costs(n_voxels)
    load = 0.0 if loaded else LOAD_MODEL_S if method == "model" else LOAD_BASELINE_S
    return dict(read=PER_VOXEL["read"] * n_voxels, load=load, search=sum(search.values()))
