"""Projection throughput into a read store, beside the same upserts written unguarded in bulk.

ours: the projector (rule book judging every record, the case summary projection, every
document written guarded by its log offset, the position after each batch)
over the first ``n`` records of the log, into ``store``. baseline: exactly the bulk writes the
projector made to the projection's collections (the same documents, in the same calls, in the
same order) made by ``bulk_upsert`` (unguarded) into the same collections of the same store in
the same run, emptied and given the projection's indexes again. Both are events per second
of wall time (events = log records read).

    python -m tests.bench.projection sqlite [--events 20000]
    python -m tests.bench.projection mongo  [--events 20000]   # needs LEDGER_TEST_MONGO_URL

From ``tests/bench/run.py``: ``await bench_projection(store, log, n, genesis=c.genesis)`` on
the corpus log after ``ledger.fill`` (and after ``ledger.seal``: the projector then trusts
signatures below the seal, as ``ledger rebuild`` does; ``trust_seal=False`` checks them all).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from shared.crypto.signing import PublicKey
from shared.log.port import EventLog, Positions
from shared.readside.dead_letters import DEAD_LETTERS, PARKED
from shared.readside.projections.case_summary import CaseSummary
from shared.readside.projector import POSITION, Projector
from shared.store import DocumentStore
from shared.store.port import Doc


class _Recording:
    """The store, unchanged, noting every guarded write so the baseline repeats them exactly."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.calls: list[tuple[str, list[Doc]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def upsert_if(
        self, coll: str, id: str, doc: Mapping[str, Any], guard_field: str, guard_value: int
    ) -> bool:
        self.calls.append((coll, [{"_id": id, **doc, guard_field: guard_value}]))
        return await self._store.upsert_if(coll, id, doc, guard_field, guard_value)

    async def bulk_upsert_if(
        self, coll: str, docs: Iterable[Mapping[str, Any]], guard_field: str
    ) -> int:
        docs = [dict(d) for d in docs]
        self.calls.append((coll, docs))
        return await self._store.bulk_upsert_if(coll, docs, guard_field)


def _first(head: Positions, n: int) -> Positions:
    """Positions covering about the first ``n`` records, spread over partitions by size."""
    total = sum(head.values())
    if n >= total:
        return dict(head)
    return {p: min(h, math.ceil(n * h / total)) for p, h in head.items()}


async def bench_projection(
    store: DocumentStore,
    log: EventLog,
    n: int,
    *,
    genesis: PublicKey,
    trust_seal: bool = True,
    batch: int = 500,
) -> dict[str, Any]:
    """Project the first ``n`` records of ``log`` into ``store`` (its case-summary and projector
    collections are dropped first), then bulk-write the same documents; returns the rates."""
    projection = CaseSummary()
    for coll in (*projection.collections, POSITION, DEAD_LETTERS, PARKED):
        await store.drop_collection(coll)
    until = _first(await log.head(), n)
    records = sum(until.values())
    recording = _Recording(store)
    p = Projector(log, recording, [projection], genesis, batch=batch, trust_seal=trust_seal)
    t0 = time.perf_counter()
    await p.start()
    await p.catch_up(until)
    ours_s = time.perf_counter() - t0

    # The baseline makes the same calls with the same documents, unguarded, into the same
    # collections, emptied and indexed again as the projection declares them: only the guards
    # and the projector differ.
    for coll in projection.collections:
        await store.drop_collection(coll)
    await projection.setup(store)
    calls = [(coll, docs) for coll, docs in recording.calls if coll in projection.collections]
    t0 = time.perf_counter()
    for coll, docs in calls:
        await store.bulk_upsert(coll, docs)
    raw_s = time.perf_counter() - t0
    upserts = sum(len(docs) for _, docs in calls)
    return {
        "ours": records / ours_s,
        "raw": records / raw_s,
        "ratio": raw_s / ours_s,
        "records": records,
        "events_applied": p.stats.applied,
        "upserts": upserts,
        "upserts_per_s": upserts / ours_s,
        "bulk_upserts_per_s": upserts / raw_s,
        "seconds": ours_s,
        "baseline_seconds": raw_s,
        "records_below_seal": sum(p.sealed.values()),
    }


async def _main(args: argparse.Namespace) -> None:
    from pathlib import Path

    from shared.store import open_store
    from tests.bench import corpus, ledger
    from tests.bench.common import Workspace

    with Workspace(keep=args.keep) as ws:
        c, log = await corpus.build(ws.root / "ledger", args.events)
        try:
            await ledger.fill(log, c)
            if args.seal:
                report, _ = await _verify(log, c)
                await ledger.seal(log, c, report, ws)
            if args.store == "mongo":
                url = os.environ["LEDGER_TEST_MONGO_URL"]
                store = await open_store(url, database=f"bench_{uuid.uuid4().hex[:8]}")
            else:
                store = await open_store(Path(ws.db("projection")))
            try:
                result = await bench_projection(store, log, args.events, genesis=c.genesis)
            finally:
                drop = getattr(store, "drop_database", None)
                if drop is not None:
                    await drop()
                await store.close()
        finally:
            await log.close()
    width = max(len(k) for k in result)
    for k, v in result.items():
        print(f"{k:<{width}}  {v:,.2f}" if isinstance(v, float) else f"{k:<{width}}  {v}")


async def _verify(log: Any, c: Any) -> tuple[Any, Any]:
    from shared.ledger.verify import verify_log

    report = await verify_log(log, c.genesis, digest_dirs=[])
    return report, None


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", choices=("sqlite", "mongo"))
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--no-seal", dest="seal", action="store_false", help="check every signature")
    ap.add_argument("--keep", action="store_true")
    asyncio.run(_main(ap.parse_args()))
