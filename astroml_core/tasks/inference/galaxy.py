"""Ω_m (and the feedback parameters) from one galaxy's properties, and from several galaxies of the
same universe combined.

Galaxies of one universe share all six parameters, so their joint posterior is
p(θ | g₁…g_k) ∝ Π q(θ | g_i) / p(θ)^(k−1); with a uniform prior that is the product of the per-galaxy
flows. We draw from the equal mixture of the k flows and weight each draw by Π q_i / mixture
(importance sampling with a defensive proposal), then read the Ω_m marginal with its effective sample
size. Feedback is marginalised, not fixed.

Every galaxy is first checked against the training galaxies (:mod:`.galaxy_applicability`): a flagged galaxy is
left out of the product (:data:`~.galaxy_applicability.COMBINE_RULE`), and a posterior made only of flagged galaxies
is withheld, the prior's draws (:func:`prior_draws`), so an unlike galaxy never gives a confident narrow answer.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from astropy.io import fits
from astropy.table import QTable

from ...errors import AstroMLError
from ...sim.galaxies import GALAXY_PARAMETERS, PROPERTIES, simulate_galaxies
from .galaxy_applicability import GalaxyVerdict, judge

__all__ = ["CombinedPosterior", "combined_posterior", "demo_universe", "galaxy_column_titles", "galaxy_table",
           "read_galaxies", "prior_draws", "DEMO_UNIVERSES"]

# Demo universes: (seed, Ω_m, σ8, log A_SN1, log A_SN2, log A_AGN1, log A_AGN2)
DEMO_UNIVERSES = {"Universe A (Ω_m 0.25)": (7001, 0.25, 0.75, 0.2, -0.1, 0.0, 0.1),
                  "Universe B (Ω_m 0.40)": (7002, 0.40, 0.90, -0.3, 0.15, 0.3, -0.2)}


def _model_and_bounds(device=None):
    import torch

    from ...models.inference_nets import prior_bounds
    from ...registry import load_model
    from ...service.device import choose_device

    device = torch.device(device) if device is not None else choose_device()
    model = load_model("galaxy_flow", device)
    return model, *prior_bounds(GALAXY_PARAMETERS, device), device


@dataclass(frozen=True)
class CombinedPosterior:
    """Weighted posterior draws of the six parameters given k galaxies, with its effective sample size."""

    samples: np.ndarray   # (n, 6)
    weights: np.ndarray   # (n,), sum 1
    n_galaxies: int       # galaxies in the product (the unflagged ones; 0 when every one is flagged)
    verdict: GalaxyVerdict | None = None

    @property
    def in_distribution(self) -> bool:
        """No galaxy was flagged by the applicability check (True when none was run)."""
        return self.verdict is None or self.verdict.in_distribution

    @property
    def ess(self) -> float:
        return float(1 / np.sum(self.weights**2))

    def quantiles(self, name: str, q) -> np.ndarray:
        """Weighted quantiles of one parameter."""
        col = [p.name for p in GALAXY_PARAMETERS].index(name)
        order = np.argsort(self.samples[:, col])
        cdf = np.cumsum(self.weights[order])
        return np.interp(q, cdf - self.weights[order] / 2, self.samples[order, col])

    def interval(self, name: str = "omega_m", level: float = 0.68) -> tuple[float, float, float]:
        """(lower, median, upper) of the central ``level`` interval."""
        lo, med, hi = self.quantiles(name, [(1 - level) / 2, 0.5, (1 + level) / 2])
        return float(lo), float(med), float(hi)

    def density(self, name: str, grid: np.ndarray) -> np.ndarray:
        """Weighted Gaussian-kernel density of one parameter on ``grid`` (unnormalised; Silverman bandwidth
        from the effective sample size, at least 0.004)."""
        values = self.samples[:, [p.name for p in GALAXY_PARAMETERS].index(name)]
        w = self.weights
        mean = np.sum(w * values)
        bandwidth = max(1.06 * np.sqrt(np.sum(w * (values - mean) ** 2)) * self.ess ** -0.2, 0.004)
        keep = w > w.max() * 1e-4
        diff = (grid[:, None] - values[None, keep]) / bandwidth
        return (np.exp(-0.5 * diff**2) * w[None, keep]).sum(axis=1)


def combined_posterior(properties: np.ndarray, *, n_draws: int = 16_000, seed: int = 0, device=None,
                       rows=None) -> CombinedPosterior:
    """Joint posterior of k galaxies (rows of ``properties``; ``rows`` their 1-based table rows) from one universe,
    after the applicability check: flagged galaxies left out, the prior when every one is flagged."""
    props = np.atleast_2d(np.asarray(properties, dtype=np.float32))
    verdict = judge(props, rows)
    kept = ~verdict.flagged
    if not kept.any():
        return CombinedPosterior(prior_draws(n_draws, seed), np.full(n_draws, 1 / n_draws), 0, verdict)
    return replace(_product(props[kept], n_draws, seed, device), verdict=verdict)


def prior_draws(n: int, seed: int = 0) -> np.ndarray:
    """(n, 6) draws of the uniform prior: a withheld posterior."""
    rng = np.random.default_rng(seed)
    return rng.uniform([p.low for p in GALAXY_PARAMETERS], [p.high for p in GALAXY_PARAMETERS], size=(n, 6))


def _product(props: np.ndarray, n_draws: int, seed: int, device) -> CombinedPosterior:
    """Importance-sampled product of the per-galaxy flows of ``props`` (k, 11)."""
    import torch

    from ...models.inference_nets import from_unit

    k = len(props)
    model, low, high, device = _model_and_bounds(device)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        contexts = model.embed(torch.as_tensor(props, device=device))
        per = -(-n_draws // k)
        z = torch.cat([model.flow(c).sample((per,)) for c in contexts])
        logq = torch.stack([model.flow(c).log_prob(z) for c in contexts])       # (k, n), in logit space
        log_mix = torch.logsumexp(logq, dim=0) - np.log(k)
        log_w = logq.sum(dim=0) - log_mix
        # the logit Jacobian cancels except for k − 1 copies: Π q_θ / mix_θ = Π q_z / mix_z · |J|^(k−1)
        u = torch.sigmoid(z)
        log_w = log_w - (k - 1) * torch.log(u * (1 - u)).sum(dim=1)
        w = torch.softmax(log_w, dim=0).cpu().numpy()
        theta = from_unit(z, low, high).cpu().numpy()
    return CombinedPosterior(theta, w, k)


def demo_universe(name: str, n: int = 40) -> tuple[dict, np.ndarray]:
    """(true parameters, log properties (n, 11)) of ``n`` galaxies drawn from one demo universe."""
    seed, *values = DEMO_UNIVERSES[name]
    theta = dict(zip([p.name for p in GALAXY_PARAMETERS], values))
    return theta, simulate_galaxies(np.tile(values, (n, 1)), seed=seed)


def galaxy_column_titles() -> dict[str, str]:
    """Each column of :func:`galaxy_table` as a person reads it, with its unit: "log M_gas [M☉]"."""
    return {"id": "id", **{f"log_{name}": f"log {name} [{unit}]" for name, unit in PROPERTIES}}


def galaxy_table(properties: np.ndarray) -> QTable:
    """A table of galaxies: an id and one column per property (log10 of the property in its unit)."""
    table = QTable({"id": np.arange(1, len(properties) + 1)})
    for i, (name, unit) in enumerate(PROPERTIES):
        table[f"log_{name}"] = np.round(properties[:, i], 3)
        table[f"log_{name}"].description = f"log10 {name} [{unit}]"
    return table



def _read_table(path) -> tuple[object, str]:
    """(astropy Table, file name) of a galaxy table file, or a typed error saying why it cannot be read. A FITS
    file (plain or gzip) goes through the checked opener first, so a broken or bomb file is refused before
    astropy's table reader decompresses it."""
    import warnings

    from astropy.table import Table

    from ...data.fitsfile import checked_file, one_line, open_fits_checked
    from ...errors import InvalidFITSError, InvalidTableError, ShapeError

    path = checked_file(path, InvalidTableError)
    with open(path, "rb") as fh:
        head = fh.read(9)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if head == b"SIMPLE  =" or head[:2] == b"\x1f\x8b":
                with open_fits_checked(path, None) as hdul:
                    tables = [h for h in hdul if isinstance(h, (fits.BinTableHDU, fits.TableHDU))]
                    if not tables:
                        raise ShapeError(f"{path.name} is a FITS file without a table: write the galaxies as a table, "
                                         "like `astroml sim galaxies`")
                    return Table.read(tables[0]), path.name
            return Table.read(path), path.name
    except InvalidFITSError as exc:
        raise InvalidTableError(f"{exc}; a galaxy table must be ECSV, CSV, VOTable or a FITS table") from None
    except AstroMLError:
        raise
    except Exception as exc:  # astropy's readers raise many types on text that is not a table
        raise InvalidTableError(f"{path.name} cannot be read as a table ({one_line(exc, 140)}): write it as ECSV, "
                                "CSV, VOTable or FITS, like `astroml sim galaxies`") from None


def read_galaxies(path, rows: list[int] | None = None) -> tuple[np.ndarray, list[int]]:
    """(log properties (k, 11) float32, 0-based rows) of the galaxies in a table file, all rows by default.

    Raises InvalidTableError (not a table), ShapeError (missing or non-numeric columns, no rows, a row
    outside the table) or NonFiniteError (NaN or infinite properties), each naming the file and column.
    """
    from ...errors import NonFiniteError, ShapeError

    table, name = _read_table(path)
    columns = [f"log_{prop}" for prop, _ in PROPERTIES]
    missing = [c for c in columns if c not in table.colnames]
    if missing:
        raise ShapeError(f"{name} lacks columns {missing}; write it like `astroml sim galaxies`")
    if len(table) == 0:
        raise ShapeError(f"{name} has no rows: no galaxy to infer from")
    rows = list(range(len(table))) if rows is None else rows
    outside = [r + 1 for r in rows if not 0 <= r < len(table)]
    if outside or not rows:
        raise ShapeError(f"{name} has rows 1–{len(table)}; rows {outside or rows} are not among them")
    props = np.empty((len(rows), len(columns)), np.float32)
    for j, column in enumerate(columns):
        try:
            props[:, j] = np.asarray(table[column], dtype=np.float64)[rows]
        except (TypeError, ValueError):
            raise ShapeError(f"{name}: column {column} does not hold numbers") from None
    bad = ~np.isfinite(props)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise NonFiniteError(f"{name}: row {rows[i] + 1}, column {columns[j]} is NaN or infinite (and "
                             f"{int(bad.sum()) - 1} more); fill or drop those galaxies")
    return props, rows
