"""The spectra classifier on real spectra (the real-file corpus), each beside its survey pipeline's own class.

A file is opened as ``astroml`` opens it (:func:`astroml_core.data.spectra.open_spectra`) and classified with the
shipped model (:func:`astroml_core.tasks.spectra.classify.classify`). Our label maps to the SDSS CLASS by its
prefix (``GALAXY_AGN`` → ``GALAXY``, ``QSO_BROADLINE`` → ``QSO``, ``STAR_A0`` → ``STAR``); ``UNKNOWN`` stays
``UNKNOWN``. A file the reader refuses because its spectra cover too little of the classifier's range is an
``UNKNOWN`` with the refusal as its reason; any other refusal is a refusal for its format, which must not happen.

The files and their truth are arguments (the corpus lives in the test suite, which this package never imports).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AstroMLError, ShapeError

__all__ = ["PipelineClass", "UNKNOWN", "survey_class", "real_rows", "real_markdown"]

UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class PipelineClass:
    """What a survey's pipeline (or, where none ran, the literature) says one spectrum is.

    Parameters
    ----------
    target : str or None
        The row's id as ``open_spectra`` names it (DESI TARGETID); None for a file's only spectrum.
    cls : str
        ``GALAXY``, ``QSO`` or ``STAR``: the pipeline's CLASS (SDSS ``SPECOBJ.CLASS``, DESI ``SPECTYPE``).
    subclass : str or None
        The pipeline's SUBCLASS (SDSS) or SUBTYPE (DESI), where it gives one.
    z : float or None
        The pipeline's redshift, where it gives one.
    source : str
        Where the class came from, e.g. ``"SPECOBJ CLASS"``, ``"DESI SPECTYPE (redrock)"``,
        ``"DESI targeting bits (not a classification)"``, ``"literature: Vega is A0 V"``.
    note : str
        Anything a reader of the table should know (a pipeline class that the literature contradicts).
    """

    target: str | None
    cls: str
    subclass: str | None = None
    z: float | None = None
    source: str = ""
    note: str = ""


def survey_class(label: str) -> str:
    """The SDSS CLASS of one of our labels: the prefix before ``_`` (``UNKNOWN`` stays ``UNKNOWN``)."""
    label = str(label)
    return UNKNOWN if label.upper().startswith(UNKNOWN) else label.split("_", 1)[0]


def _coverage_refusal(exc: AstroMLError) -> bool:
    """A refusal because the spectra cover too little of the classifier's range (not because of the format)."""
    text = str(exc)
    return isinstance(exc, ShapeError) and "the classifier reads optical spectra" in text


def _row(file: str, truth: PipelineClass, target: str, label: str, p_max: float | None, reason: str,
         verdict: str) -> dict:
    return dict(file=file, target=target, pipeline_class=truth.cls, pipeline_subclass=truth.subclass, z=truth.z,
                source=truth.source, note=truth.note, label=label, our_class=survey_class(label) if label else "",
                p_max=p_max, reason=reason, verdict=verdict)


def _verdict(truth_cls: str, label: str, reason: str) -> str:
    ours = survey_class(label)
    if ours == UNKNOWN:
        return f"UNKNOWN ({reason})" if reason else "UNKNOWN (no reason given)"
    return "agrees" if ours == truth_cls.upper() else "disagrees"


def real_rows(files_with_truth: Iterable[tuple[str | os.PathLike, Sequence[PipelineClass]]], *, model=None,
              labels: Sequence[str] | None = None) -> list[dict]:
    """Classify every real spectrum and compare it with its pipeline's class.

    Parameters
    ----------
    files_with_truth : iterable of (path, truths)
        Each file with one :class:`PipelineClass` per spectrum to check (``target`` picks the row; None: the
        file's only spectrum). An empty ``truths`` classifies the file's rows with no truth (verdict "no truth").
    model : optional
        A loaded ``spectra_net`` (default: the shipped one, through the registry's cache).
    labels : sequence of str, optional
        Display names of the files (default: the file names).

    Returns
    -------
    list of dict
        One per spectrum: ``file``, ``target``, ``pipeline_class``, ``pipeline_subclass``, ``z``, ``source``,
        ``note``, ``label`` (ours), ``our_class`` (its SDSS CLASS), ``p_max``, ``reason`` (why UNKNOWN, or the
        refusal), ``verdict``: ``"agrees"``, ``"disagrees"``, ``"UNKNOWN (reason)"``, ``"refused for its format
        (message)"``, ``"not read (…)"`` (the reader left that target out) or ``"no truth"``.
    """
    from ..data.spectra import open_spectra
    from ..tasks.spectra.classify import classify
    from ..tasks.spectra.survey import answers

    items = [(Path(p), list(t)) for p, t in files_with_truth]
    names = list(labels) if labels is not None else [p.name for p, _ in items]
    rows: list[dict] = []
    for (path, truths), name in zip(items, names):
        truths = truths or [PipelineClass(None, "")]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spectra = open_spectra(path)
        except AstroMLError as exc:
            message = f"{type(exc).__name__}: {exc}"
            for t in truths:
                if _coverage_refusal(exc):
                    rows.append(_row(name, t, t.target or "", UNKNOWN, None, message,
                                     f"UNKNOWN ({message})" if t.cls else "no truth"))
                else:
                    rows.append(_row(name, t, t.target or "", "", None, message, f"refused for its format ({message})"))
            continue
        result = classify(spectra, model)
        ours = answers(result).astype(str)
        reasons = result.reason if result.reason is not None else np.full(len(ours), "")
        ids = [str(i) for i in spectra.ids]
        p_max = result.probs.max(axis=1)
        for t in truths:
            if t.target is None and len(ids) != 1 and t.cls:
                raise ValueError(f"{name} holds {len(ids)} spectra: its truth must name each target")
            wanted = [t.target] if t.target is not None else ids
            for target in wanted:
                if target not in ids:
                    rows.append(_row(name, t, target, "", None, "", "not read (the reader left this target out: "
                                     + "; ".join(n for n in spectra.notes if "left out" in n) + ")"))
                    continue
                i = ids.index(target)
                verdict = _verdict(t.cls, ours[i], reasons[i]) if t.cls else "no truth"
                rows.append(_row(name, t, target, ours[i], round(float(p_max[i]), 3), reasons[i], verdict))
    return rows


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def real_markdown(rows: Sequence[dict]) -> str:
    """The rows of :func:`real_rows` as a markdown table (file, target, pipeline class and where from, our label,
    p(max), verdict), then a count of each verdict."""
    lines = ["| file | target | pipeline CLASS | from | ours | p(max) | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        truth = r["pipeline_class"] + (f" {r['pipeline_subclass']}" if r["pipeline_subclass"] else "") + \
            (f" z={r['z']:.4f}" if r["z"] is not None else "")
        p = "" if r["p_max"] is None else f"{r['p_max']:.3f}"
        lines.append("| " + " | ".join(_cell(x) for x in (r["file"], r["target"], truth, r["source"], r["label"], p,
                                                          r["verdict"])) + " |")
    counts: dict[str, int] = {}
    for r in rows:
        key = r["verdict"].split(" (", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return "\n".join(lines) + "\n\n" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + "\n"
