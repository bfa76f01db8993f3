"""A vetting load: many users, each in their own process, voting on one campaign at the same moment.

Used by ``python -m astroml_core.bench vetting`` and by the load tests. Each voter process opens its own
store (its own connections, as separate server processes would) and waits for a common start time, so
all of them write at once. Voter ``u`` gives candidate ``c`` its true label unless ``(u + c) % 5 == 0``,
so every candidate's expected counts, and hence its consensus, are known exactly.
"""
from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass

import numpy as np

from .previews import encode_preview
from .store import CandidateIn, VettingStore

__all__ = ["LoadResult", "prepare_campaign", "run_load", "expected_label"]

LABELS = ("real", "false")


def expected_label(user: int, candidate: int, truth: int) -> str:
    """The label voter ``user`` gives the ``candidate``-th candidate whose true label index is ``truth``."""
    return LABELS[truth if (user + candidate) % 5 else 1 - truth]


@dataclass(frozen=True)
class LoadResult:
    """What a load run did: campaign, truth per candidate, latencies (s) and errors from every voter."""

    campaign_id: int
    candidate_ids: list[int]
    truth: list[int]
    users: list[str]
    latencies: list[float]
    errors: list[str]
    wall_s: float


def prepare_campaign(store: VettingStore, tag: str, n_users: int, n_candidates: int, seed: int = 0):
    """Users ``<tag>-admin`` and ``<tag>-u<k>``, and a campaign of ``n_candidates`` with seeded truth."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n_candidates).tolist()
    store.add_user(f"{tag}-admin", "admin-password", "admin")
    users = [store.add_user(f"{tag}-u{k}", "vetter-password", "vetter").name for k in range(n_users)]
    preview = encode_preview(image=np.zeros((4, 4), np.float32))
    cands = [CandidateIn(f"{tag}-{i}", {"row": i}, float(rng.random()), float(rng.random()), preview)
             for i in range(n_candidates)]
    cid = store.create_campaign(f"{tag}-admin", f"{tag} load", "spectrum", LABELS, cands)
    ids = [c.id for c in store.candidates(cid)]
    return cid, ids, truth, users


def _voter(url: str, user: str, k: int, ids: list[int], truth: list[int], start_at: float, queue) -> None:
    store = VettingStore(url)
    lat, errors = [], []
    while time.time() < start_at:
        time.sleep(0.005)
    for i, (cid, t) in enumerate(zip(ids, truth)):
        t0 = time.perf_counter()
        try:
            store.vote(user, cid, expected_label(k, i, t))
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            errors.append(f"{user} on {cid}: {type(exc).__name__}: {exc}")
        lat.append(time.perf_counter() - t0)
    store.dispose()
    queue.put((lat, errors))


def run_load(url: str, tag: str, n_users: int = 20, n_votes: int = 50, seed: int = 0) -> LoadResult:
    """``n_users`` processes × ``n_votes`` votes each, all starting together, against the store at ``url``."""
    store = VettingStore(url)
    cid, ids, truth, users = prepare_campaign(store, tag, n_users, n_votes, seed)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 4.0 + 0.25 * n_users  # time for every process to import and connect
    procs = [ctx.Process(target=_voter, args=(url, u, k, ids, truth, start_at, queue)) for k, u in enumerate(users)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    wall = time.time() - start_at
    for p in procs:
        p.join(timeout=60)
    lat = [x for r in results for x in r[0]]
    errors = [e for r in results for e in r[1]]
    return LoadResult(cid, ids, truth, users, lat, errors, wall)
