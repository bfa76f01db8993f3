"""Is a lightcone like what the posterior learned from? Which posterior to show, and how wide (issue 32).

The lightcone network's 48-number summary is compared with reference summaries of two *domains*: our own
simulator, and real 21cmFAST runs (a calibration set whose seeds never meet the 21cmFAST test set).

* **Which domain.** A logistic regression on the summary gives P(21cmFAST | summary), the two domains weighted
  equally a priori (we do not know which code made a user's lightcone). The posterior shown is the mixture of
  the two domains' posteriors with these weights.
* **Each domain's posterior.** Our simulator, whole line of sight: the network's own neural-spline-flow
  posterior (calibrated there). Otherwise a Gaussian in the prior's logit space fitted on that domain's
  summaries (ridge regression, with the covariance of its out-of-fold errors): the *summary head*. 21cmFAST has
  no warm dark matter, so its head leaves m_WDM at the prior.
* **Like neither.** In each domain the summaries are whitened on their leading principal axes; a lightcone's
  score there is its Mahalanobis distance over the 98th percentile of the reference set's own out-of-fold
  distances (≤ 1: as usual as 98 % of that domain). When no domain scores ≤ 1 the lightcone is flagged:
  ``in_distribution`` is False and the mixture is widened by :data:`WIDEN_RULE`.

A lightcone shorter than the model's 2,688 Mpc is read as far as it goes: the missing far slices are zero and the
references of the longest stored length it covers are used; they were fitted on lightcones cut the same way,
so the posterior widens by what the missing redshifts would have told.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...metrics.applicability import whitened_distance
from ...sim.lightcone import PARAMETERS

__all__ = ["Reference", "Classifier", "Verdict", "load_reference", "judge", "mixture_draws", "head_draws",
           "widened_to_prior", "usable_length", "max_los", "WIDEN_RULE", "DOMAIN_LABELS", "APPLICABILITY_FILE"]

APPLICABILITY_FILE = "applicability.npz"
DOMAIN_LABELS = {"own": "our simulator", "21cmfast": "21cmFAST"}
PRIOR_LOGIT_SD = np.pi / np.sqrt(3)     # spread of a uniform prior in logit space
CENTRE_LOGIT = 2.0                      # logit of 88 %: a widened posterior is centred within the prior's 12–88 %
WIDEN_RULE = ("intervals widened: each parameter's draws are spread about their median (in the prior's logit space) "
              "until they are at least as wide as the prior, their centre moved inside the middle 76 % of the prior "
              "if it lay outside, so the 95 % intervals span most of the prior")


@dataclass(frozen=True)
class Reference:
    """Whitening, threshold and summary head of one domain at one line-of-sight length (``n_los`` slices)."""

    domain: str
    n_los: int
    mean: np.ndarray          # (48,) summary mean
    whiten: np.ndarray        # (k, 48): projection onto the leading axes, each divided by its rms
    threshold: float          # 98th percentile of out-of-fold distances
    head_w: np.ndarray        # (48, P) ridge weights on the centred summary
    head_b: np.ndarray        # (P,) intercept (logit space)
    head_chol: np.ndarray     # (P, P) Cholesky factor of the out-of-fold error covariance
    head_params: tuple[str, ...]

    def score(self, summary: np.ndarray) -> float:
        """Mahalanobis distance of a summary over this domain's 98th-percentile distance."""
        return float(whitened_distance(summary, self.mean, self.whiten) / self.threshold)


@dataclass(frozen=True)
class Classifier:
    """P(21cmFAST | summary) at one line-of-sight length: a logistic regression on standardised summaries."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def p_21cmfast(self, summary: np.ndarray) -> float:
        logit = float((summary - self.mean) / self.scale @ self.coef + self.intercept)
        return float(1 / (1 + np.exp(-np.clip(logit, -50, 50))))


@dataclass(frozen=True)
class Verdict:
    """What the check found at one length: each domain's reference, weight and score."""

    references: dict          # domain → Reference
    weights: dict             # domain → mixture weight (sums to 1)
    scores: dict              # domain → score (≤ 1: as usual as 98 % of that domain)

    @property
    def score(self) -> float:
        """The lowest domain score: > 1 means unlike every domain."""
        return min(self.scores.values())

    @property
    def in_distribution(self) -> bool:
        return self.score <= 1.0

    @property
    def domain(self) -> str:
        """The domain with the larger weight (whose posterior is most of the mixture shown)."""
        return max(self.weights, key=self.weights.get)

    @property
    def nearest(self) -> str:
        """The domain with the lowest score."""
        return min(self.scores, key=self.scores.get)

    @property
    def n_los(self) -> int:
        return next(iter(self.references.values())).n_los

    def message(self) -> str:
        """One or two sentences for the user."""
        label = DOMAIN_LABELS[self.domain]
        like = f"most like {label} lightcones (weight {self.weights[self.domain]:.2f})"
        if self.in_distribution:
            return f"This lightcone is {like} and as usual as those the model was calibrated on (score " \
                   f"{self.score:.2f} ≤ 1)."
        return (f"This lightcone is unlike anything the model was trained or calibrated on: its summary is "
                f"{self.score:.1f}× as far from the nearest set ({DOMAIN_LABELS[self.nearest]}) as 98 % of that set's own lightcones. "
                "The model's answer may be confidently wrong here, so its intervals are widened.")

    def meta(self) -> dict:
        """The ``applicability`` entry of a posterior table's meta."""
        return dict(score=round(self.score, 3), threshold=1.0, domain=DOMAIN_LABELS[self.domain],
                    nearest=DOMAIN_LABELS[self.nearest], n_los=self.n_los,
                    weights={DOMAIN_LABELS[k]: round(v, 3) for k, v in self.weights.items()},
                    scores={DOMAIN_LABELS[k]: round(v, 3) for k, v in self.scores.items()},
                    message=self.message(), rule=None if self.in_distribution else WIDEN_RULE)


@lru_cache(maxsize=1)
def load_reference() -> tuple[tuple[Reference, ...], dict]:
    """Every (domain, length) reference, and the domain classifier of each length, shipped beside the weights."""
    from ...registry import MODEL_DIR

    refs, classifiers = [], {}
    with np.load(MODEL_DIR / "lightcone_flow" / APPLICABILITY_FILE) as data:
        for key in sorted({k.rsplit("__", 1)[0] for k in data.files if "__" in k}):
            domain, n_los = key.split("_L")
            get = lambda name: data[f"{key}__{name}"]   # noqa: E731
            if domain == "classifier":
                classifiers[int(n_los)] = Classifier(get("mean"), get("scale"), get("coef"), float(get("intercept")))
                continue
            refs.append(Reference(domain, int(n_los), get("mean"), get("whiten"), float(get("threshold")),
                                  get("head_w"), get("head_b"), get("head_chol"), tuple(str(p) for p in get("head_params"))))
    return tuple(refs), classifiers


def max_los() -> int:
    """The model's whole line of sight, in slices."""
    return max(r.n_los for r in load_reference()[0])


def usable_length(n_available: int) -> int:
    """The longest stored line-of-sight length (slices) that a lightcone of ``n_available`` slices covers."""
    lengths = sorted({r.n_los for r in load_reference()[0]})
    usable = [n for n in lengths if n <= n_available]
    return usable[-1] if usable else 0


def judge(summary: np.ndarray, n_los: int) -> Verdict:
    """Weigh and score a summary (made from a lightcone of ``n_los`` usable slices) against both domains."""
    refs, classifiers = load_reference()
    references = {r.domain: r for r in refs if r.n_los == n_los}
    p21 = classifiers[n_los].p_21cmfast(summary)
    return Verdict(references, {"own": 1 - p21, "21cmfast": p21},
                   {d: r.score(summary) for d, r in references.items()})


def mixture_draws(verdict: Verdict, summary: np.ndarray, flow_draws, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 6) logit-space draws of the weighted mixture of the domains' posteriors; ``flow_draws(k)`` gives k draws of
    the network's flow, our simulator's posterior for a whole lightcone; widened when the lightcone is flagged."""
    k21 = int(rng.binomial(n, verdict.weights["21cmfast"]))
    own = verdict.references["own"]
    parts = [head_draws(verdict.references["21cmfast"], summary, k21, rng),
             flow_draws(n - k21) if own.n_los == max_los() else head_draws(own, summary, n - k21, rng)]
    z = np.concatenate(parts)[rng.permutation(n)]
    return z if verdict.in_distribution else widened_to_prior(z)


def head_draws(reference: Reference, summary: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 6) logit-space draws of the summary head's Gaussian; parameters it does not fit keep their prior."""
    names = [p.name for p in PARAMETERS]
    mean = (summary - reference.mean) @ reference.head_w + reference.head_b
    fitted = mean + rng.standard_normal((n, len(mean))) @ reference.head_chol.T
    u = rng.uniform(1e-4, 1 - 1e-4, size=(n, len(names)))
    out = np.log(u) - np.log1p(-u)                   # prior draws in logit space
    for j, name in enumerate(reference.head_params):
        out[:, names.index(name)] = fitted[:, j]
    return out


def widened_to_prior(z: np.ndarray) -> np.ndarray:
    """:data:`WIDEN_RULE`: each column of logit-space draws stretched about its median until its 16–84 % half-range
    is at least the prior's spread, the median first clipped to ±:data:`CENTRE_LOGIT` (a confident answer at the
    prior's edge must not stay there)."""
    lo, centre, hi = np.quantile(z, [0.16, 0.5, 0.84], axis=0)
    stretch = np.maximum(1.0, PRIOR_LOGIT_SD / np.maximum((hi - lo) / 2, 1e-6))
    return np.clip(centre, -CENTRE_LOGIT, CENTRE_LOGIT) + (z - centre) * stretch
