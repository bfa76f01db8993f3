"""Vetting benchmark: 20 users × 50 votes at once, each user in their own process, on SQLite and PostgreSQL.

Run ``python -m astroml_core.bench vetting [--pg URL]`` (PostgreSQL also from ``ASTROML_TEST_PG_URL``).
Reports votes stored, errors, per-vote commit latency (p50/p95/max) and votes per second.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

__all__ = ["run", "measure"]


def measure(url: str, n_users: int = 20, n_votes: int = 50) -> dict:
    """One load run on ``url``: counts stored and latencies."""
    from ..vetting.load import run_load
    from ..vetting.store import VettingStore

    result = run_load(url, f"bench-{uuid.uuid4().hex[:8]}", n_users, n_votes)
    store = VettingStore(url)
    stored = store.progress(result.campaign_id)["votes"]
    lat = np.array(result.latencies) * 1e3
    store.dispose()
    return {"backend": url.split(":")[0], "users": n_users, "votes_each": n_votes, "votes_stored": int(stored),
            "errors": len(result.errors), "commit_ms_p50": round(float(np.percentile(lat, 50)), 2),
            "commit_ms_p95": round(float(np.percentile(lat, 95)), 2), "commit_ms_max": round(float(lat.max()), 2),
            "votes_per_s": round(len(lat) / result.wall_s, 1)}


def run(out: Path, pg_url: str | None = None) -> dict:
    """SQLite (a fresh file) and, when a URL is given, PostgreSQL; writes the JSON to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": measure(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")}
    pg_url = pg_url or os.environ.get("ASTROML_TEST_PG_URL")
    if pg_url:
        results["postgresql"] = measure(pg_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results
