"""Flux errors looked up by blendedness and band S/N: calibration on known scatter, filling sparse cells,
the card round trip, and the columns a catalogue gains."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from astropy.table import QTable

from astroml_core.tasks.deblend.errors import FluxErrorModel, add_flux_errors, band_snr, calibrate


def test_calibration_recovers_each_cells_scatter_and_fills_sparse_cells_from_their_row():
    rng = np.random.default_rng(0)
    n = 4000
    beta = rng.uniform(0, 0.3, n)                                   # rows 0 and 1 only
    snr = np.column_stack([rng.uniform(12, 18, n), rng.uniform(60, 90, n)])     # S/N cells 10–20 and 50–∞
    scale = np.where(beta[:, None] < 0.1, 0.05, 0.2) * np.array([2.0, 1.0])
    errors = calibrate(beta, snr, rng.normal(0, 1, (n, 2)) * scale)
    table = errors.relative_sigma
    q68 = 0.9945                                                    # |N(0, 1)|'s 68th percentile
    assert table[0, 2] == pytest.approx(0.10 * q68, rel=0.08) and table[0, 4] == pytest.approx(0.05 * q68, rel=0.08)
    assert table[1, 2] == pytest.approx(0.40 * q68, rel=0.08) and table[1, 4] == pytest.approx(0.20 * q68, rel=0.08)
    assert table[0, 3] in (table[0, 2], table[0, 4]) and table[0, 0] == table[0, 2]   # nearest filled cell of the row
    assert np.all(table[2:] == pytest.approx(np.quantile(np.abs(rng.normal(0, 1, (n, 2)) * scale), 0.68), rel=0.1))
    lookup = errors.relative(np.array([0.05, 0.2]), np.array([[15.0, 70.0], [15.0, 70.0]]))
    assert lookup.tolist() == [[table[0, 2], table[0, 4]], [table[1, 2], table[1, 4]]]


def test_the_card_round_trip_keeps_the_table_and_the_open_top_edge():
    errors = FluxErrorModel(np.arange(20, dtype=float).reshape(4, 5) / 100)
    back = FluxErrorModel.from_dict(yaml.safe_load(yaml.safe_dump(errors.to_dict())))
    assert np.array_equal(back.relative_sigma, errors.relative_sigma) and back.snr_edges[-1] == np.inf
    assert back.relative(np.array([0.7]), np.array([[1e4]]))[0, 0] == 0.19


def test_a_catalogue_gains_an_error_per_band_scaled_by_its_flux():
    stamps = np.zeros((2, 2, 8, 8), np.float32)
    stamps[0, :, 4, 4], stamps[1, :, 4, 4] = (30.0, 8.0), (100.0, 100.0)
    assert band_snr(stamps).tolist() == [[30.0, 8.0], [100.0, 100.0]]
    table = QTable({"flux_g": [300.0, -50.0], "flux_r": [80.0, 1000.0], "blendedness": [0.05, 0.7]})
    errors = FluxErrorModel(np.arange(20, dtype=float).reshape(4, 5) / 100)
    add_flux_errors(table, stamps, ["g", "r"], errors)
    assert table["flux_err_g"].tolist() == pytest.approx([300 * 0.03, 50 * 0.19])     # S/N 30: the 20–50 column
    assert table["flux_err_r"].tolist() == pytest.approx([80 * 0.01, 1000 * 0.19])
