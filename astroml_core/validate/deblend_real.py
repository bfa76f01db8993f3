"""The deblender on real images (the real-file corpus), opened as ``astroml deblend FILE`` opens them: what each
method finds, how model and sep fluxes compare where both ran, and the notes and refusals the user would see.
No truth exists here; the point is that real files open and get honest notes or typed refusals."""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import AstroMLError

__all__ = ["METHODS", "real_image_rows", "real_markdown"]

METHODS = ("model", "sep")


def _method_row(image, method: str) -> tuple[dict, object]:
    """One method on an opened image: (sources, seconds, notes; or the typed refusal), and its catalogue."""
    from ..tasks.deblend.run import deblend

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = deblend(image, method)
    except AstroMLError as exc:
        return dict(error=f"{type(exc).__name__}: {exc}"), None
    cat = result.catalogue
    return dict(sources=len(cat), seconds=round(time.perf_counter() - t0, 2), notes=list(cat.meta.get("notes", [])),
                image_notes=list(cat.meta.get("image_notes", []))), cat


def _flux_ratio(model_cat, sep_cat, bands) -> dict:
    """Median model / sep flux per band over sources matched within 3 px (and how many matched)."""
    from ..metrics.deblend import match_sources

    pairs = match_sources(sep_cat, model_cat, 3.0)          # {model row: sep row}
    out = dict(matched=len(pairs))
    for b in bands:
        m = np.array([float(model_cat[f"flux_{b}"][i]) for i in pairs])
        s = np.array([float(sep_cat[f"flux_{b}"][j]) for j in pairs.values()])
        ok = np.isfinite(m) & np.isfinite(s) & (s > 0)
        out[b] = round(float(np.median(m[ok] / s[ok])), 4) if ok.any() else None
    return out


def _labels(paths: list[Path]) -> list[str]:
    """Each path's shortest tail of components that no other given path shares (corpus files share names)."""
    out = []
    for p in paths:
        depth = 1
        while depth < len(p.parts) and sum(q.parts[-depth:] == p.parts[-depth:] for q in paths) > 1:
            depth += 1
        out.append("/".join(p.parts[-depth:]))
    return out


def _file_row(path: Path, label: str, methods) -> dict:
    from ..data import open_multiband

    row = dict(file=label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = open_multiband(path)
    except AstroMLError as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    row.update(bands=list(image.bands), shape=list(image.shape), unit=image.unit, image_notes=list(image.notes))
    cats = {}
    for method in methods:
        row[method], cats[method] = _method_row(image, method)
    if cats.get("model") is not None and cats.get("sep") is not None:
        row["model_over_sep"] = _flux_ratio(cats["model"], cats["sep"], image.bands)
    return row


def real_image_rows(paths, methods=METHODS) -> list[dict]:
    """One row per file: bands, shape, per method sources / seconds / notes or the typed refusal, the median
    model/sep flux ratio when both ran; a file the loader refuses is a row with its ``error``."""
    paths = [Path(p) for p in paths]
    return [_file_row(p, label, methods) for p, label in zip(paths, _labels(paths))]


def _cell(r: dict, method: str) -> str:
    m = r.get(method, {})
    return str(m["sources"]) if "sources" in m else m.get("error", "–").split(":")[0]


def real_markdown(rows: list[dict]) -> str:
    """A Markdown table of :func:`real_image_rows`, then the refusals and notes per file."""
    lines = ["| file | bands | shape | model sources | sep sources | model/sep flux (median, matched) | model s |",
             "|---|---|---|---|---|---|---|"]
    said = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['file']} | – | – | – | – | – | – |")
            said.append(f"- {r['file']}: not opened: {r['error']}")
            continue
        ratio = r.get("model_over_sep")
        ratio_s = (", ".join(f"{b} {ratio[b]:.2f}" for b in r["bands"] if ratio.get(b) is not None)
                   + f" ({ratio['matched']})") if ratio else "–"
        lines.append(f"| {r['file']} | {''.join(r['bands'])} | {'×'.join(map(str, r['shape']))} | {_cell(r, 'model')} | "
                     f"{_cell(r, 'sep')} | {ratio_s} | {r.get('model', {}).get('seconds', '–')} |")
        for method in METHODS:
            m = r.get(method, {})
            if "error" in m:
                said.append(f"- {r['file']} ({method}): {m['error']}")
            said += [f"- {r['file']} ({method}): {n}" for n in m.get("notes", [])]
        said += [f"- {r['file']} (image): {n}" for n in r.get("image_notes", [])]
    return "\n".join(lines + (["", "Refusals and notes:"] + said if said else [])) + "\n"
