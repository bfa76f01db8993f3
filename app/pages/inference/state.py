"""The inference page's state without widgets: the open lightcone and its posterior samples, the galaxy
universe and the galaxies added to its Ω_m posterior, and the texts and curves that follow from them.
Tested headless."""
from __future__ import annotations

import numpy as np
import param

from astroml_core.tasks.inference.cards import LIGHTCONE_MODEL, card_front
from astroml_core.sim.galaxies import GALAXY_PARAMETERS
from astroml_core.sim.lightcone import PARAMETERS
from astroml_core.tasks.inference import (DEMO_UNIVERSES, LightconeData, combined_posterior, demo_universe,
                                          grid_notes, lightcone_posterior)

__all__ = ["InferenceState", "posterior_samples", "notes", "e0_note", "lightcone_note", "N_SAMPLES", "PALETTE"]

N_SAMPLES = 10_000
PALETTE = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
OMEGA_M = next(p for p in GALAXY_PARAMETERS if p.name == "omega_m")
OMEGA_GRID = np.linspace(OMEGA_M.low, OMEGA_M.high, 161)


def posterior_samples(data: LightconeData, progress=None) -> tuple[np.ndarray, dict]:
    """Job: posterior samples of one lightcone as an array (n, 6), and the posterior table's meta."""
    table = lightcone_posterior(data, n_samples=N_SAMPLES)
    return np.column_stack([np.asarray(table[p.name].value) for p in PARAMETERS]), dict(table.meta)


def notes(data: LightconeData, meta: dict | None) -> list:
    """What the posterior says about its reading of the file (e.g. a shorter line of sight), else the file's notes."""
    return list(meta["notes"]) if meta and "notes" in meta else [*data.notes, *grid_notes(data)]


def e0_note(e0: dict) -> str:
    """The card's finding on E₀ in a sentence, when it is not constrained over the whole prior."""
    if e0["information_above_split"] == "constrained":
        return ""
    below = [r["half_width"] for r in e0["by_range"] if r["high"] <= e0["split_ev"] + 1e-3]
    above = min(r["half_width"] for r in e0["by_range"] if r["low"] >= e0["split_ev"])
    return (f"E₀ is read only below {e0['split_ev']:g} eV (held-out 68 % half-widths {min(below):.0f}–{max(below):.0f} eV "
            f"there); above it these lightcones carry {e0['information_above_split']} information on it (half-widths "
            f"≥ {above:.0f} eV, the prior's own spread): harder X-rays heat the box uniformly.")


def lightcone_note() -> str:
    """From the lightcone model's card: the parameters it does not constrain (held-out R² < 0.5) and E₀'s range."""
    front = card_front(LIGHTCONE_MODEL)
    weak = [p.label for p in PARAMETERS if front["held_out"]["r2"][p.name] < 0.5]
    return (f"Not constrained by these lightcones (held-out R² < 0.5): {', '.join(weak)} — its posterior stays "
            "near the prior. " if weak else "") + e0_note(front["held_out_e0"])


def _galaxies(n: int) -> str:
    return f"{n} galax{'y' if n == 1 else 'ies'}"


class InferenceState(param.Parameterized):
    """What the page shows (its parameters), the lightcone and posterior, and the galaxy universe."""

    file = param.String(default="", doc="The open lightcone, relative to the data root (for links)")
    row = param.Integer(default=16, bounds=(0, 1023), label="Transverse row of the side view")
    universe = param.Selector(default=next(iter(DEMO_UNIVERSES)), objects=list(DEMO_UNIVERSES))
    galaxies = param.List(default=[], item_type=int, doc="Galaxy ids added to the combined posterior, in order")
    tab = param.Integer(default=0, bounds=(0, 2))

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.data: LightconeData | None = None
        self.samples: np.ndarray | None = None
        self.universe_truth: dict | None = None
        self.properties: np.ndarray | None = None
        self._posteriors: dict = {}

    # --- lightcone ----------------------------------------------------------------------------------
    def take_lightcone(self, data: LightconeData) -> None:
        """Keep a newly opened lightcone; the side view's row stays inside it."""
        self.data = data
        self.param.row.bounds = (0, data.tb.shape[1] - 1)
        self.row = min(self.row, data.tb.shape[1] - 1)

    def take_posterior(self, data: LightconeData, samples: np.ndarray) -> bool:
        """Keep the posterior of ``data``; False (kept nothing) when another lightcone was opened meanwhile."""
        if data is not self.data:
            return False
        self.samples = samples
        return True

    def side_title(self) -> str:
        """The side view's title: which transverse row it shows, in Mpc."""
        return f"δT_b along the line of sight, row x = {self.row * self.data.cell_mpc:.0f} Mpc"

    def posterior_headline(self) -> str:
        """The status's first line: how many samples, from how big a box, and whether the truth is known."""
        width, height = (n * self.data.cell_mpc for n in self.data.tb.shape[:2])
        return (f"Posterior: {len(self.samples):,} samples from the whole {width:.0f} × {height:.0f} Mpc box"
                + ("" if self.data.truth else " (no truth in this file)"))

    # --- galaxies -----------------------------------------------------------------------------------
    def load_universe(self) -> None:
        """Draw the chosen demo universe's galaxies (its truth and log properties)."""
        self.universe_truth, self.properties = demo_universe(self.universe)

    def galaxy_ids(self) -> list[int]:
        """The added galaxies that exist in this universe, in the order added."""
        n = 0 if self.properties is None else len(self.properties)
        return [g for g in self.galaxies if 1 <= g <= n]

    def combined(self, ids: tuple[int, ...]):
        """Joint posterior of these galaxies of the current universe (kept: earlier curves do not change)."""
        key = (self.universe, ids)
        if key not in self._posteriors:
            self._posteriors[key] = combined_posterior(self.properties[np.array(ids) - 1], rows=ids)
        return self._posteriors[key]

    def galaxy_check(self) -> dict:
        """The added galaxies' applicability check as a posterior meta (``in_distribution``, ``applicability``), for
        the warning box; empty when no galaxy is added."""
        ids = self.galaxy_ids()
        if not ids:
            return {}
        post = self.combined(tuple(ids))
        return dict(in_distribution=post.in_distribution, applicability=post.verdict.meta())

    def omega_curves(self) -> dict:
        """The Ω_m posterior (peak 1) after each of the last len(PALETTE) galaxies added, darker as more are."""
        ids = self.galaxy_ids()
        shown = range(max(0, len(ids) - len(PALETTE)), len(ids))
        densities = [self.combined(tuple(ids[:k + 1])).density("omega_m", OMEGA_GRID) for k in shown]
        return dict(xs=[OMEGA_GRID] * len(densities), ys=[d / d.max() for d in densities],
                    color=PALETTE[len(PALETTE) - len(densities):], label=[_galaxies(k + 1) for k in shown])

    def interval_html(self) -> str:
        """The combined Ω_m median and 68 % interval against the universe's truth, or what to do first."""
        ids = self.galaxy_ids()
        if not ids:
            return "Select a galaxy in the table and add it"
        post = self.combined(tuple(ids))
        lo, med, hi = post.interval("omega_m")
        left_out = post.verdict.flagged_rows
        used = [i for i in ids if i not in left_out]
        head = f"<b>{_galaxies(len(used))}</b> ({', '.join(map(str, used))})" if used else "<b>No galaxy used</b>"
        if left_out:
            head += f", left out as unlike the training galaxies: {', '.join(map(str, left_out))}"
        return (f"{head}: "
                f"Ω_m = <span class='om-median'>{med:.3f}</span>, 68 % interval "
                f"<span class='om-lo'>{lo:.3f}</span> – <span class='om-hi'>{hi:.3f}</span> "
                f"(half-width <span class='om-width'>{(hi - lo) / 2:.3f}</span>, {(hi - lo) / 2 / med:.0%}); "
                f"true Ω_m {self.universe_truth['omega_m']:.2f}; effective samples {post.ess:,.0f}"
                + ("" if post.in_distribution else "<br><b>⚠ Off-distribution galaxies: see the warning below</b>"))
