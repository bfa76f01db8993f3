"""The HI finder on real cubes (the real-file corpus): what each finder accepts, how long it takes, and the
notes the model gives on each cube, for the model card. No truth exists here; the point is that real files
open, are searched, and get honest notes instead of confident HI catalogues where they do not apply."""
from __future__ import annotations

import time
import warnings
from pathlib import Path

from ..errors import AstroMLError

__all__ = ["real_cube_rows", "real_markdown"]


def _row(path: Path, method: str) -> dict:
    from ..data import open_cube
    from ..tasks.hi import detect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cube = open_cube(path)
        t0 = time.perf_counter()
        table = detect(cube, method)
    return dict(shape=list(cube.shape), candidates=len(table), accepted=int(sum(table["accepted"])),
                seconds=round(time.perf_counter() - t0, 2), notes=list(table.meta.get("notes", [])))


def real_cube_rows(paths, methods=("model", "baseline")) -> list[dict]:
    """One row per file: per method candidates, accepted, seconds and notes; a refusal is a row too."""
    rows = []
    for path in map(Path, paths):
        row = dict(file=path.name)
        for method in methods:
            try:
                row[method] = _row(path, method)
            except AstroMLError as exc:
                row[method] = dict(error=f"{type(exc).__name__}: {exc}")
        rows.append(row)
    return rows


def real_markdown(rows: list[dict]) -> str:
    """A Markdown table of :func:`real_cube_rows` and the model's notes per file."""
    lines = ["| file | shape | model accepted / candidates | baseline accepted | model s |", "|---|---|---|---|---|"]
    notes = []
    for r in rows:
        m, b = r.get("model", {}), r.get("baseline", {})
        shape = "×".join(map(str, m.get("shape", b.get("shape", []))))
        lines.append(f"| {r['file']} | {shape} | " + (f"{m['accepted']} / {m['candidates']}" if "accepted" in m else
                                                       m.get("error", "–")) +
                     f" | {b.get('accepted', b.get('error', '–'))} | {m.get('seconds', '–')} |")
        notes += [f"- {r['file']}: {n}" for n in m.get("notes", [])]
    return "\n".join(lines + ([""] + ["Model notes:"] + notes if notes else [])) + "\n"
