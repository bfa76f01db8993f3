"""A Bokeh heatmap of a confusion matrix: counts and row-normalised fractions in each cell; a click on a
cell reports (true row, predicted column)."""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

__all__ = ["ConfusionView"]


def _short(name: str) -> str:
    return name.replace("GALAXY_", "G ").replace("STAR_", "★ ").replace("QSO_", "QSO ")


class ConfusionView:
    """``show(matrix, rows, columns)``; ``on_cell(i, j)`` on a click."""

    def __init__(self, *, on_cell: Callable[[int, int], None], size: int = 520) -> None:
        self.source = ColumnDataSource(dict(true=[], pred=[], count=[], frac=[], text=[], i=[], j=[], text_color=[]),
                                       name="confusion-source")
        fig = figure(frame_width=size, frame_height=size, name="confusion-figure", tools="tap,save",
                     toolbar_location="above", x_range=["-"], y_range=["-"], title="",
                     x_axis_label="Predicted class", y_axis_label="True class")
        mapper = LinearColorMapper(palette="Blues256", low=1.0, high=0.0)
        fig.rect("pred", "true", 1, 1, source=self.source, fill_color={"field": "frac", "transform": mapper},
                 line_color="#dddddd", nonselection_fill_alpha=1.0, selection_line_color="#d62728",
                 selection_line_width=3)
        fig.text("pred", "true", text="text", source=self.source, text_align="center", text_baseline="middle",
                 text_font_size="8px", text_color="text_color")
        fig.xaxis.major_label_orientation = 1.0
        fig.axis.major_label_text_font_size = "10px"
        fig.grid.visible = False
        fig.title.text_font_size = "11px"
        self.source.selected.on_change("indices", lambda attr, old, new: self._clicked(new, on_cell))
        self.fig = fig

    def _clicked(self, indices: list[int], on_cell) -> None:
        if indices:
            on_cell(int(self.source.data["i"][indices[0]]), int(self.source.data["j"][indices[0]]))

    def show(self, matrix: np.ndarray, rows: list[str], columns: list[str], title: str) -> None:
        """Draw counts (rows: true, columns: predicted); the diagonal reads top-left to bottom-right."""
        fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ii, jj = np.nonzero(np.ones_like(matrix, dtype=bool))
        text = [f"{matrix[i, j]}\n{fractions[i, j]:.2f}" if matrix[i, j] else "" for i, j in zip(ii, jj)]
        self.source.selected.indices = []
        self.source.data = dict(true=[_short(rows[i]) for i in ii], pred=[_short(columns[j]) for j in jj],
                                count=matrix[ii, jj].tolist(), frac=fractions[ii, jj].tolist(), text=text,
                                i=ii.tolist(), j=jj.tolist(),
                                text_color=["white" if f > 0.5 else "#222222" for f in fractions[ii, jj]])
        self.fig.x_range.factors = [_short(c) for c in columns]
        self.fig.y_range.factors = [_short(r) for r in rows][::-1]
        self.fig.title.text = title
