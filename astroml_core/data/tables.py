"""Tables as files: ECSV, CSV (units in the column names, which CSV cannot carry otherwise) or VOTable,
chosen by the file's suffix; and the same as bytes for a download."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from astropy.table import QTable, Table

from .shown_paths import scrub_meta
from ..errors import AstroMLError

__all__ = ["TABLE_FORMATS", "write_table", "table_bytes"]

TABLE_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".vot": "votable", ".xml": "votable"}


def write_table(table: Table, path: str | os.PathLike) -> Path:
    """Write ``table`` in the format its suffix names; an unknown suffix raises AstroMLError."""
    path = Path(path)
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AstroMLError(f"{path.name}: write one of {', '.join(sorted(TABLE_FORMATS))}")
    table = table.copy(copy_data=False)         # its meta names files as users know them (no server paths)
    table.meta = scrub_meta(table.meta)
    if fmt == "votable":
        _write_votable(table, path)
        return path
    if fmt == "ascii.csv":
        table = QTable(table)
        for name in table.colnames:
            if getattr(table[name], "unit", None) is not None:
                table.rename_column(name, f"{name} [{table[name].unit}]")
    table.write(path, format=fmt, overwrite=True)
    return path


def _write_votable(table: Table, path: Path) -> None:
    """A TABLEDATA VOTable through astropy's Python writer: its C writer (astropy 8.0) writes one byte past its
    buffer, which corrupted the heap and crashed the process later (found under PYTHONMALLOC=debug)."""
    from astropy.io.votable import from_table
    from astropy.io.votable.tree import Info

    votable = from_table(table)
    for note in table.meta.get("notes", []):   # what the model said about the input, kept with the catalogue
        votable.resources[0].tables[0].infos.append(Info(name="note", value=str(note)))
    votable.to_xml(str(path), tabledata_format="tabledata", _debug_python_based_parser=True)


def table_bytes(table: Table, suffix: str) -> bytes:
    """The file :func:`write_table` writes for ``suffix``, as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_table(table, Path(tmp) / f"table{suffix}").read_bytes()
