"""The spectra page's state without widgets: which map and colouring are chosen (and which the open survey
allows), the selection and how it was made, the confusion matrix and the spectra of its cells, the summary
line, and what an export or a vetting campaign is made of. Importable and testable without a browser."""
from __future__ import annotations

import io

import numpy as np
import param

from astroml_core.metrics.spectra import confusion_matrix, macro_accuracy
from astroml_core.tasks.spectra import points_in_box, points_in_polygon, selection_table
from astroml_core.tasks.spectra.classify import UNKNOWN
from astroml_core.tasks.spectra.display_names import display_name, display_names
from astroml_core.tasks.spectra.embed import MIN_FOR_NEIGHBOURS
from astroml_core.tasks.spectra.model import NAME as MODEL
from astroml_core.tasks.spectra.survey import Survey, answers

from ...components.safe_text import html_text
from .spectra_stack import count

__all__ = ["SpectraState", "COLOURS", "PROJECTIONS", "NO_SELECTION", "spectrum_name"]

COLOURS = {"true class": None, "predicted class": None, "uncertainty": "uncertainty", "anomaly score": "anomaly",
           "redshift": "z"}
PROJECTIONS = {"UMAP": "umap", "t-SNE": "tsne", "VAE latent": "vae", "PCA": "pca"}
NO_SELECTION = "No selection: lasso (or box) a region of the map"


class SpectraState(param.Parameterized):
    """Projection, colouring and the selected spectra (indices into the open survey), with the logic that reads
    them: no widgets here, the page draws what this holds."""

    projection = param.Selector(default="UMAP", objects=list(PROJECTIONS), doc="Which 2-D map")
    colour_by = param.Selector(default="true class", objects=list(COLOURS), label="Colour by")
    selection = param.Array(default=np.zeros(0, np.int64), doc="Selected spectra (row indices)")
    file = param.String(default="", doc="The open spectra file, relative to the data root (for links)")
    how = param.String(default="", doc="How the selection was made (box, lasso, confusion cell…)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.survey: Survey | None = None
        self.confusion_rows: list[str] | None = None     # true classes of the matrix's rows (the model's first)

    # --- the open survey ------------------------------------------------------------------------------
    def colours(self, survey: Survey) -> list[str]:
        """The colourings ``survey`` can have: true class only with a truth, redshift only with redshifts."""
        return [c for c in COLOURS if (c != "true class" or survey.true_class is not None)
                and (COLOURS[c] != "z" or "z" in survey.spectra.meta)]

    def projections(self, survey: Survey) -> list[str]:
        """The maps ``survey`` can have: too few spectra for a neighbour graph leave VAE latent and PCA."""
        few = len(survey.spectra) < MIN_FOR_NEIGHBOURS
        return [p for p in PROJECTIONS if not few or PROJECTIONS[p] in ("vae", "pca")]

    def summary(self) -> str:
        """The status line of the open survey: how many spectra, by what, how many UNKNOWN and anomalous."""
        r, n = self.survey.result, len(self.survey.spectra)
        return (f"{n:,} spectr{'um' if n == 1 else 'a'} · classified by {MODEL} · "
                f"{(answers(r) == UNKNOWN).sum():,} UNKNOWN · {(r.anomaly > 3).sum():,} with anomaly score > 3")

    def hover(self) -> dict[str, np.ndarray]:
        """What the map's hover says of each spectrum."""
        s, r = self.survey, self.survey.result
        said = answers(r)
        return dict(id=np.asarray(s.spectra.ids), label=display_names(s.true_class if s.true_class is not None else said),
                    predicted=display_names(said), p=r.probs.max(axis=1), anomaly=r.anomaly)

    def narrow(self, name: str, allowed: list, fallback) -> bool:
        """Offer only ``allowed`` for the choice ``name``, moving its value to ``fallback`` first when it must
        change, so its widget never holds a value outside its options (the browser would send back None).
        True when the value moved."""
        moved = getattr(self, name) not in allowed
        if moved:
            self.param[name].objects = list(dict.fromkeys([*self.param[name].objects, *allowed]))
            setattr(self, name, fallback)
        self.param[name].objects = allowed
        return moved

    @property
    def method(self) -> str:
        """The chosen map's method name ("umap", "tsne", "vae", "pca")."""
        return PROJECTIONS[self.projection]

    @property
    def value_column(self) -> str | None:
        """The survey column the map is coloured by (None: by class)."""
        return COLOURS[self.colour_by]

    # --- selecting ----------------------------------------------------------------------------------
    def select(self, index, how: str) -> None:
        """Select spectra ``index``, saying how they were chosen."""
        self.how = how
        self.selection = np.asarray(index, np.int64)

    def selection_text(self) -> str:
        """"<b>3 spectra selected</b> (how)", escaped (a class name comes from the file)."""
        return f"<b>{count(len(self.selection))} selected</b> ({html_text(self.how)})"

    def select_cell(self, truth: str, predicted: str) -> bool:
        """Select the spectra of true class ``truth`` predicted as ``predicted``; False while no matrix is shown."""
        if self.survey is None or self.confusion_rows is None:
            return False
        self.select(self.cell_indices(truth, predicted), f"confusion cell true {truth} → predicted {predicted}")
        return True

    def clear_selection(self) -> bool:
        """Select nothing; False while no survey is open."""
        if self.survey is None:
            return False
        self.select(np.zeros(0, np.int64), "cleared")
        return True

    def geometry_indices(self, coords: np.ndarray, geometry: dict) -> tuple[np.ndarray, str] | None:
        """The spectra inside a box or lasso drawn on the map at ``coords``, and its description (None: neither)."""
        if geometry.get("type") == "rect":
            x0, x1, y0, y1 = (geometry[k] for k in ("x0", "x1", "y0", "y1"))
            return (points_in_box(coords, x0, x1, y0, y1),
                    f"box x {min(x0, x1):.3f}…{max(x0, x1):.3f}, y {min(y0, y1):.3f}…{max(y0, y1):.3f}")
        if geometry.get("type") == "poly":
            return points_in_polygon(coords, geometry["x"], geometry["y"]), f"lasso of {len(geometry['x'])} vertices"
        return None

    # --- the confusion matrix -----------------------------------------------------------------------
    def confusion_table(self) -> tuple[np.ndarray, list[str], list[str], str] | None:
        """The matrix (true rows: the model's classes, then any other true class; predicted columns), its row and
        column names and its title with the macro accuracy; None without a truth."""
        truth, r = self.survey.true_class, self.survey.result
        if truth is None:
            self.confusion_rows = None
            return None
        classes = list(r.classes)
        rows = classes + sorted(set(truth) - set(classes))
        self.confusion_rows = rows
        index = {c: i for i, c in enumerate(rows)}
        full = confusion_matrix(np.array([index[c] for c in truth]), r.pred, len(rows))[:, : len(classes)]
        accuracy = macro_accuracy(full[: len(classes)])
        known = int(np.isin(truth, classes).sum())
        return full, rows, classes, f"{count(known)} of the {len(classes)} classes · macro accuracy {accuracy:.3f}"

    def cell_indices(self, truth: str, predicted: str) -> np.ndarray:
        """The spectra of true class ``truth`` that the model called ``predicted``."""
        column = list(self.survey.result.classes).index(predicted)
        return np.flatnonzero((self.survey.true_class == truth) & (self.survey.result.pred == column))

    def cell_names(self, i: int, j: int) -> tuple[str, str]:
        """The (true, predicted) class names of the matrix's cell at row ``i``, column ``j``."""
        return self.confusion_rows[i], self.survey.result.classes[j]

    # --- what leaves the page -----------------------------------------------------------------------
    def export(self, fmt: str) -> io.BytesIO:
        """The selection (or, with nothing selected, every spectrum) as ECSV or CSV bytes."""
        index = self.selection if len(self.selection) else np.arange(len(self.survey.spectra))
        buf = io.StringIO()
        selection_table(self.survey, index).write(buf, format="ascii.ecsv" if fmt == "ecsv" else "ascii.csv")
        return io.BytesIO(buf.getvalue().encode())

    def most_uncertain_first(self) -> np.ndarray:
        """The selection ordered by the classifier's uncertainty, highest first (ties keep their order)."""
        return self.selection[np.argsort(-self.survey.result.uncertainty[self.selection], kind="stable")]


def spectrum_name(spectrum_id, result, i: int) -> str:
    """A drawn spectrum's name: its id and the classifier's answer in words (the reason when UNKNOWN)."""
    if result.label is not None and result.label[i] == UNKNOWN:
        return f"{spectrum_id} · Unknown: {result.reason[i]}"
    return f"{spectrum_id} · {display_name(result.pred_class[i])} (p {result.probs[i].max():.2f})"
