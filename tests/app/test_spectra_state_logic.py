"""The spectra page's UI-free state (app/pages/spectra/state.py) on a hand-made survey: which colourings and maps
a file allows, the confusion matrix and its macro accuracy, a cell's spectra, box selections, the selection's
line and the vetting order. No widgets are built."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from app.pages.spectra.state import SpectraState


def _survey(truth=("A", "A", "A", "B", "B", "X"), pred=(0, 0, 1, 1, 0, 1), z=True, n=None):
    """Six spectra of a two-class model (A, B); truth X is a class the model does not have."""
    n = n or len(pred)
    meta = {"true_class": np.array(truth)} if truth is not None else {}
    if z:
        meta["z"] = np.linspace(0.1, 0.6, n)
    result = SimpleNamespace(classes=("A", "B"), pred=np.array(pred), label=None,
                             pred_class=np.array(["A", "B"])[np.array(pred)],
                             probs=np.tile([0.7, 0.3], (n, 1)), anomaly=np.array([0.5, 4.0, 1.0, 3.5, 0.1, 9.0])[:n],
                             uncertainty=np.array([0.1, 0.5, 0.3, 0.5, 0.9, 0.2])[:n])
    return SimpleNamespace(spectra=_Spectra(meta, np.array([f"s{i}" for i in range(n)])), result=result,
                           true_class=meta.get("true_class"))


class _Spectra(SimpleNamespace):
    def __init__(self, meta, ids):
        super().__init__(meta=meta, ids=ids)

    def __len__(self):
        return len(self.ids)


@pytest.fixture
def state():
    s = SpectraState()
    s.survey = _survey()
    return s


def test_colourings_and_maps_follow_what_the_file_has(state):
    assert state.colours(state.survey) == ["true class", "predicted class", "uncertainty", "anomaly score", "redshift"]
    assert state.colours(_survey(truth=None, z=False)) == ["predicted class", "uncertainty", "anomaly score"]
    assert state.projections(state.survey) == ["VAE latent", "PCA"]          # six spectra: no neighbour graph
    assert state.narrow("projection", state.projections(state.survey), "VAE latent")   # UMAP was chosen: moved
    assert state.projection == "VAE latent" and state.method == "vae"
    assert state.narrow("colour_by", ["predicted class", "uncertainty"], "predicted class")
    assert state.colour_by == "predicted class" and state.param.colour_by.objects == ["predicted class", "uncertainty"]
    state.colour_by = "uncertainty"
    assert state.value_column == "uncertainty"
    state.colour_by = "predicted class"
    assert state.value_column is None


def test_the_summary_counts_anomalies(state):
    assert state.summary() == "6 spectra · classified by spectra_net · 0 UNKNOWN · 3 with anomaly score > 3"


def test_the_confusion_matrix_its_macro_accuracy_and_a_cells_spectra(state):
    matrix, rows, columns, title = state.confusion_table()
    assert rows == ["A", "B", "X"] and columns == ["A", "B"]
    assert matrix.tolist() == [[2, 1], [1, 1], [0, 1]]
    # A: 2 of 3 right, B: 1 of 2 right; X is no class of the model's → (2/3 + 1/2) / 2
    assert title == f"5 spectra of the 2 classes · macro accuracy {(2 / 3 + 1 / 2) / 2:.3f}"
    assert state.cell_indices("A", "B").tolist() == [2]
    assert state.cell_indices("B", "A").tolist() == [4]
    assert state.cell_indices("X", "B").tolist() == [5]
    assert state.cell_names(2, 1) == ("X", "B")
    state.survey = _survey(truth=None)
    assert state.confusion_table() is None and state.confusion_rows is None


def test_a_selection_its_line_and_the_vetting_order(state):
    state.select([1, 3, 4], "box <b>")
    assert state.selection.dtype == np.int64
    assert state.selection_text() == "<b>3 spectra selected</b> (box &lt;b&gt;)"        # escaped
    assert state.most_uncertain_first().tolist() == [4, 1, 3]                          # 0.9, then 0.5 twice in order
    state.select([2], "one")
    assert state.selection_text().startswith("<b>1 spectrum selected</b>")


def test_a_box_and_a_lasso_select_the_points_inside(state):
    coords = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [0.5, 2.5], [2.5, 0.5]], float)
    index, how = state.geometry_indices(coords, {"type": "rect", "x0": 2.1, "x1": 0.9, "y0": 0.9, "y1": 2.1})
    assert index.tolist() == [1, 2] and how == "box x 0.900…2.100, y 0.900…2.100"
    index, how = state.geometry_indices(coords, {"type": "poly", "x": [-1, 4, -1], "y": [-1, 4, 4]})
    assert set(index.tolist()) >= {4} and 5 not in index and how == "lasso of 3 vertices"
    assert state.geometry_indices(coords, {"type": "point"}) is None


def test_the_lesson_methods_select_a_cell_and_clear(state):
    from app.pages.spectra.lessons import LESSON_ACTIONS

    assert not LESSON_ACTIONS["select_cell"](state, {"truth": "A", "predicted": "B"})     # no matrix yet: retried
    state.confusion_table()
    assert LESSON_ACTIONS["select_cell"](state, {"truth": "A", "predicted": "B"})
    assert state.selection.tolist() == [2] and state.how == "confusion cell true A → predicted B"
    assert LESSON_ACTIONS["clear"](state, True)
    assert len(state.selection) == 0 and state.selection_text() == "<b>0 spectra selected</b> (cleared)"
    assert not LESSON_ACTIONS["clear"](SpectraState(), True)                               # nothing open
