"""Is a galaxy like those galaxy_flow learned from? The check behind every galaxy posterior.

A galaxy's summary is its 11 log properties. They are whitened on a reference set of the training generator's
galaxies (all 11 principal axes); its *score* is the Mahalanobis distance there over the 99th percentile of the
distances of separate own tuning galaxies (≤ 1: as usual as 99 % of the generator's galaxies). The relations
the flow reads Ω_m from are tight (σ_v–V_max 0.05 dex, M*–M_halo 0.15 dex), so a galaxy that breaks them, even
with every property inside its usual range, scores far above 1.

Rules (:data:`SINGLE_RULE`, :data:`COMBINE_RULE`): a flagged galaxy's posterior is *withheld*: its draws are the
prior's (the model says nothing about Ω_m or feedback from it). The logit-space widening of the lightcone check was
tried first, on own held-out galaxies shifted off the relations: a flow posterior pressed against the prior's edge
stays within half the prior's width after it, still a confident answer. Galaxies combined are multiplied only when
not flagged; when every one is flagged, the combined posterior is the prior.
The reference statistics are fitted by ``python -m astroml_core.train galaxy-applicability`` and shipped in
``assets/models/galaxy_flow/applicability.npz``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...errors import NonFiniteError, ShapeError
from ...metrics.applicability import whitened_distance

__all__ = ["GalaxyReference", "GalaxyVerdict", "load_reference", "judge", "SINGLE_RULE", "COMBINE_RULE",
           "APPLICABILITY_FILE", "N_PROPERTIES"]

APPLICABILITY_FILE = "applicability.npz"
N_PROPERTIES = 11
SINGLE_RULE = ("posterior withheld: the model says nothing about this galaxy, so its draws are the prior's (uniform "
               "over the prior box)")
COMBINE_RULE = ("flagged galaxies left out of the combined posterior; when every galaxy is flagged, the posterior is "
                "withheld: the prior's draws")


@dataclass(frozen=True)
class GalaxyReference:
    """Whitening of the training generator's galaxies and the threshold distance (a percentile of tuning galaxies)."""

    mean: np.ndarray          # (11,)
    whiten: np.ndarray        # (11, 11)
    threshold: float
    quantile: float

    def scores(self, props: np.ndarray) -> np.ndarray:
        """(k,) Mahalanobis distances of galaxies (rows of log properties) over the threshold."""
        return whitened_distance(props, self.mean, self.whiten) / self.threshold


@dataclass(frozen=True)
class GalaxyVerdict:
    """Scores of a set of galaxies (table rows, 1-based) against the reference."""

    scores: np.ndarray
    rows: tuple[int, ...]
    quantile: float = 0.99

    @property
    def flagged(self) -> np.ndarray:
        return self.scores > 1.0

    @property
    def in_distribution(self) -> bool:
        return not bool(self.flagged.any())

    @property
    def flagged_rows(self) -> list[int]:
        return [r for r, f in zip(self.rows, self.flagged) if f]

    def message(self) -> str:
        """One or two sentences for the user."""
        pct = f"{self.quantile:.0%}"
        if self.in_distribution:
            return (f"Every galaxy is as usual as {pct} of the training generator's galaxies (highest score "
                    f"{self.scores.max():.2f} ≤ 1).")
        bad = self.flagged_rows
        few = ", ".join(map(str, bad[:8])) + (" …" if len(bad) > 8 else "")
        return (f"{len(bad)} of {len(self.rows)} galax{'y' if len(self.rows) == 1 else 'ies'} (row{'s' * (len(bad) > 1)} "
                f"{few}) {'is' if len(bad) == 1 else 'are'} unlike the galaxies the model was trained on: their "
                f"properties are up to {self.scores.max():.1f}× as far from the training galaxies as {pct} of those "
                "are. The model's answer may be confidently wrong for them, so it is not used for them.")

    def rule(self) -> str | None:
        """The rule applied to the posterior, or None when nothing was flagged."""
        if self.in_distribution:
            return None
        return SINGLE_RULE if len(self.rows) == 1 else COMBINE_RULE

    def meta(self) -> dict:
        """The ``applicability`` entry of a posterior table's meta (plain types)."""
        return dict(score=round(float(self.scores.max()), 3), threshold=1.0, nearest="training galaxies",
                    scores={int(r): round(float(s), 3) for r, s in zip(self.rows, self.scores)},
                    flagged_rows=[int(r) for r in self.flagged_rows], message=self.message(), rule=self.rule())


@lru_cache(maxsize=1)
def load_reference() -> GalaxyReference:
    """The shipped reference (``assets/models/galaxy_flow/applicability.npz``)."""
    from ...registry import MODEL_DIR

    with np.load(MODEL_DIR / "galaxy_flow" / APPLICABILITY_FILE) as data:
        return GalaxyReference(data["mean"], data["whiten"], float(data["threshold"]), float(data["quantile"]))


def judge(props: np.ndarray, rows=None, reference: GalaxyReference | None = None) -> GalaxyVerdict:
    """Score galaxies (k, 11 log properties; ``rows`` their 1-based table rows) against the training galaxies;
    a typed error for a wrong shape or a NaN/infinite property (a score of NaN would pass no threshold)."""
    props = np.atleast_2d(np.asarray(props, dtype=float))
    if props.ndim != 2 or props.shape[1] != N_PROPERTIES or not len(props):
        raise ShapeError(f"galaxy properties must be (k, {N_PROPERTIES}) log values; got shape {props.shape}")
    if not np.isfinite(props).all():
        raise NonFiniteError("a galaxy property is NaN or infinite: its distance from the training galaxies is "
                             "undefined; fill or drop that galaxy")
    ref = reference or load_reference()
    rows = tuple(range(1, len(props) + 1)) if rows is None else tuple(int(r) for r in rows)
    return GalaxyVerdict(ref.scores(props), rows, ref.quantile)
