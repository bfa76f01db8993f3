"""Load and crash: 20 users × 50 votes at once lose nothing, on SQLite and on PostgreSQL; a killed writer
loses no acknowledged vote."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from astroml_core.vetting import VettingStore
from astroml_core.vetting.load import expected_label, prepare_campaign, run_load


def _check_load(url: str) -> None:
    result = run_load(url, "load", n_users=20, n_votes=50)
    assert result.errors == []
    store = VettingStore(url)
    stored = store.progress(result.campaign_id)["votes"]
    assert stored == 1000
    cons = store.consensus(result.campaign_id)
    for i, (cid, t) in enumerate(zip(result.candidate_ids, result.truth)):
        expected = [expected_label(k, i, t) for k in range(20)]
        row = cons[cid]
        assert row.counts == {"real": expected.count("real"), "false": expected.count("false")}
        assert row.n_votes == 20 and row.majority == ("real", "false")[t] == row.ds_label
    store.dispose()


def test_twenty_users_fifty_votes_each_on_sqlite(tmp_path):
    _check_load(f"sqlite:///{tmp_path / 'load.sqlite'}")


def test_twenty_users_fifty_votes_each_on_postgresql(pg_url):
    _check_load(pg_url)


_WRITER = """
import sys
from astroml_core.vetting import VettingStore
store = VettingStore(sys.argv[1])
for cid in map(int, sys.argv[3:]):
    v = store.vote(sys.argv[2], cid, "real")
    print(v.id, cid, flush=True)   # the acknowledgement: printed only after the commit returned
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_writer_loses_no_acknowledged_vote(tmp_path, backend, request):
    url = f"sqlite:///{tmp_path / 'crash.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = VettingStore(url)
    _, ids, _, users = prepare_campaign(store, "crash", 1, 400)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, url, users[0], *map(str, ids)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    acked = []
    deadline = time.time() + 120
    while len(acked) < 60 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(int(line.split()[1]))
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: more votes were being written
    proc.wait()
    acked += [int(line.split()[1]) for line in proc.stdout.read().splitlines() if line.strip()]
    assert len(acked) >= 60
    fresh = VettingStore(url)  # as a restarted server would
    stored = {v.candidate_id for cid in ids for v in fresh.votes(cid)}
    assert set(acked) <= stored
    assert len(stored) < len(ids)  # it really was killed before the end
    store.dispose(), fresh.dispose()
