"""A campaign's result as a table with provenance: CSV, ECSV or VOTable.

One row per candidate: its data reference, what the model said, vote counts per label, the majority and
its agreement, Dawid–Skene's label and probability. The table's meta (ECSV header, VOTable INFO) names
the campaign, model, version and card hash, the database and who exported it when. Files are named
relative to the data root (uploads by their sender's name), never by the server's absolute paths.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

from astropy.table import Table

from ..data.shown_paths import shown_path
from ..data.tables import table_bytes
from ..errors import InvalidVoteError
from .schema import utcnow
from .store import VettingStore

__all__ = ["campaign_table", "campaign_bytes", "write_campaign", "FORMATS"]

FORMATS = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv", ".xml": "votable", ".vot": "votable"}


def campaign_table(store: VettingStore, campaign_id: int, by: str | None) -> Table:
    """The campaign's consensus table (admins only: ``by`` must be an admin)."""
    by_name = store.require_admin(by).name
    info = store.campaign(campaign_id)
    cands = store.candidates(campaign_id)
    cons = store.consensus(campaign_id)
    rows = []
    for c in cands:
        k = cons[c.id]
        ref = {**c.ref, "file": shown_path(c.ref["file"])} if c.ref.get("file") else c.ref
        rows.append({"candidate_id": c.id, "name": c.name, "file": str(ref.get("file", "")),
                     "row": int(c.ref.get("row", -1)), "ref": json.dumps(ref, sort_keys=True),
                     "model_label": c.model_label, "score": c.score, "uncertainty": c.uncertainty,
                     "n_votes": k.n_votes, **{f"votes_{lab}": k.counts[lab] for lab in info.labels},
                     "majority": k.majority or "", "agreement": k.agreement,
                     "ds_label": k.ds_label or "", "ds_probability": k.ds_probability if k.ds_probability is not None
                     else float("nan")})
    table = Table(rows=rows) if rows else Table()
    table.meta.update({
        "campaign": info.name, "campaign_id": info.id, "kind": info.kind, "labels": list(info.labels),
        "model_name": info.model_name, "model_version": info.model_version, "card_sha256": info.card_sha256,
        "source": shown_path(info.source) if info.source else "", "database": _shown_url(store.public_url),
        "exported_by": by_name,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "consensus": "majority of votes; Dawid & Skene (1979) EM label where a candidate has >= 3 votes"})
    return table


def _shown_url(url: str) -> str:
    """A database URL as an export names it: a SQLite file by its path relative to the data root."""
    return f"sqlite:///{shown_path(url[len('sqlite:///'):])}" if url.startswith("sqlite:///") else url


def campaign_bytes(store: VettingStore, campaign_id: int, by: str | None, suffix: str) -> bytes:
    """The consensus table as a file's bytes; the format follows ``suffix`` (.csv, .ecsv, .xml/.vot)."""
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise InvalidVoteError(f"export to .csv, .ecsv or .xml (VOTable), not {suffix or 'no suffix'}")
    table = campaign_table(store, campaign_id, by)
    if fmt == "votable":  # VOTable INFO values are strings
        table.meta = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in table.meta.items()}
        return table_bytes(table, ".vot")          # (astropy's C TABLEDATA writer overruns its buffer)
    text = io.StringIO()
    table.write(text, format=fmt)
    return text.getvalue().encode()


def write_campaign(store: VettingStore, campaign_id: int, path: str | os.PathLike, by: str | None) -> Path:
    """Write the consensus table to ``path``; the format follows the suffix (.csv, .ecsv, .xml/.vot)."""
    path = Path(path)
    data = campaign_bytes(store, campaign_id, by, path.suffix)
    path.write_bytes(data)
    return path
