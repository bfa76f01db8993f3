"""What the spectra classifier looks at: for held-out broad-line quasars, integrated gradients sit on
their broad emission lines, not on the continuum, noise or sky lines."""
from __future__ import annotations

import numpy as np

from astroml_core.registry import load_model
from astroml_core.sim.spectra import loglam_grid, simulate_spectra
from astroml_core.sim.spectral_templates import QSO_LINES
from astroml_core.tasks.spectra.saliency import integrated_gradients


def test_quasar_attribution_concentrates_on_its_broad_lines():
    sim = simulate_spectra(3040, 1300)                      # held-out seed
    pick = np.flatnonzero((sim.label == "QSO_BROADLINE") & (sim.snr > 5))[:20]
    att, target = integrated_gradients(load_model("spectra_net", "cpu"), sim.flux[pick], sim.ivar[pick])
    assert (target == 4).mean() > 0.9                       # QSO_BROADLINE predicted
    lam = 10 ** loglam_grid()
    ratios = []
    for a, z in zip(att, sim.z[pick]):
        inside = np.zeros(lam.size, bool)
        for rest, _ in QSO_LINES:                           # ±4,000 km/s around every broad line
            centre = rest * (1 + z)
            inside |= np.abs(lam - centre) < centre * 4000 / 299_792.458
        if inside.sum() >= 20:
            ratios.append(np.abs(a[inside]).mean() / np.abs(a[~inside]).mean())
    assert len(ratios) >= 15 and np.median(ratios) > 3 and min(ratios) > 1.5, ratios


def test_attributions_add_up_to_the_probability_gained():
    sim = simulate_spectra(3041, 200)
    model = load_model("spectra_net", "cpu")
    att, target = integrated_gradients(model, sim.flux[:6], sim.ivar[:6], steps=64)
    from astroml_core.tasks.spectra import classify_arrays

    p = classify_arrays(sim.flux[:6], sim.ivar[:6], model).probs[np.arange(6), target]
    assert np.all(att.sum(axis=1) <= p + 0.1) and np.median(att.sum(axis=1)) > 0.5
