"""A selection's median spectrum is stacked in the rest frame (issue 34: the observed-frame median across
redshifts was featureless), and falls back to the observed frame, saying so, without redshifts."""
from __future__ import annotations

import numpy as np

from astroml_core.tasks.spectra.stacking import rest_wavelength, selection_redshifts, stack_spectra

LINE = 5006.8                       # [O III], Å in the rest frame
WAVE = np.linspace(3600.0, 10000.0, 3200)


def _line_at(z: float, width: float = 4.0) -> np.ndarray:
    """A flat continuum of 1 with one emission line of height 5 at the line's observed wavelength."""
    return 1.0 + 5.0 * np.exp(-0.5 * ((WAVE - LINE * (1 + z)) / width) ** 2)


def test_two_redshifts_stack_with_the_line_at_its_rest_wavelength():
    stack = stack_spectra(WAVE, np.array([_line_at(0.1), _line_at(0.5)]), np.array([0.1, 0.5]))
    assert stack.frame == "rest" and stack.missing_z == 0
    peak = stack.wavelength[np.nanargmax(stack.median)]
    assert abs(peak - LINE) < 3.0                                       # within a pixel or so of 5006.8 Å
    assert np.nanmax(stack.median) > 4.0                               # the line kept its height: not smeared
    both = stack.coverage == 2
    assert stack.wavelength[both].min() < 3300 < 6600 < stack.wavelength[both].max()
    assert np.isnan(stack.median[stack.coverage < 2]).all()            # only where both spectra reach


def test_the_observed_frame_median_would_have_lost_the_line():
    rows = np.array([_line_at(0.1), _line_at(0.5), _line_at(0.3)])
    observed = stack_spectra(WAVE, rows, None)
    assert observed.frame == "observed" and observed.missing_z == 3
    assert np.nanmax(observed.median) < 1.5                            # each line alone at its wavelength: median 1
    rest = stack_spectra(WAVE, rows, np.array([0.1, 0.5, 0.3]))
    assert np.nanmax(rest.median) > 4.0


def test_one_missing_redshift_keeps_the_observed_frame_and_counts_it():
    stack = stack_spectra(WAVE, np.array([_line_at(0.2), _line_at(0.2)]), np.array([0.2, np.nan]))
    assert stack.frame == "observed" and stack.missing_z == 1
    assert np.array_equal(stack.wavelength, WAVE)
    assert abs(stack.wavelength[np.nanargmax(stack.median)] - LINE * 1.2) < 3.0


def test_gaps_stay_gaps_and_redshifts_come_from_the_metadata():
    row = _line_at(0.1)
    row[1000:1100] = np.nan
    stack = stack_spectra(WAVE, np.array([row]), np.array([0.1]))
    rest_gap = rest_wavelength(WAVE[[1000, 1099]], 0.1)
    inside = (stack.wavelength > rest_gap[0] + 3) & (stack.wavelength < rest_gap[1] - 3)
    assert inside.any() and np.isnan(stack.median[inside]).all()
    assert np.allclose(selection_redshifts({"z": [0.0, 0.3, 0.7]}, np.array([2, 0])), [0.7, 0.0])
    assert np.isnan(selection_redshifts({}, np.array([1, 2]))).all()
