"""The heaviest read-store page query, timed on any DocumentStore.

The page: one unit's cases in two states (a supervisor's "open work of unit U" list), newest
due date first, one page of 50 at a random depth, plus the total count for the pager: a
filter on two fields + sort + page + count, against ``n`` case documents.

    python -m tests.bench.store_query sqlite [--n 100000]
    python -m tests.bench.store_query mongo  [--n 100000]   # needs LEDGER_TEST_MONGO_URL

SQLite files go under ``var/bench/`` (the project's disk, as the other benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

from shared.store import DESC, DocumentStore
from shared.store.mongo import MongoStore
from shared.store.sqlite import SqliteStore
from tests.bench.common import BENCH_DIR

UNITS = [f"unit-{i:02d}" for i in range(20)]
STATUSES = ["assigned", "acknowledged", "replied", "resolution_claimed", "closed", "deemed_done"]
OPEN = ["assigned", "acknowledged"]
WORDS = "市卫生局城管局交通局窗口工作人员态度推诿扯皮超时回复未解决群众反映多次投诉办理"
PAGE = 50


def _cases(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    for i in range(n):
        day = rnd.randrange(365)
        date = f"2026-{1 + day // 31:02d}-{1 + day % 28:02d}"
        yield {
            "_id": f"C2026-{i:07d}",
            "unit": rnd.choice(UNITS),
            "status": rnd.choice(STATUSES),
            "due": f"{date}T{rnd.randrange(24):02d}:00:00+08:00",
            "received": date,
            "urgency": rnd.choice(["normal", "urgent", "critical"]),
            "title": "".join(rnd.choice(WORDS) for _ in range(18)),
            "complaints": rnd.randrange(1, 4),
            "channel": rnd.choice(["12345", "web", "letter", "walk-in"]),
            "pos": i,
        }


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


async def bench_heaviest_query(
    store: DocumentStore,
    n: int = 100_000,
    *,
    runs: int = 200,
    warmup: int = 5,
    time_budget_s: float = 120.0,
    min_runs: int = 20,
    coll: str = "bench_cases",
    seed: int = 1,
) -> dict[str, float]:
    """Load ``n`` cases into ``coll`` (replacing it), then time ``runs`` page queries (each a
    find of one page plus its count). Stops early after ``time_budget_s`` once ``min_runs``
    are in (FerretDB scans: a run there takes seconds). Returns milliseconds per page."""
    await store.drop_collection(coll)
    # Equality fields first, the sort field last: one index serves filter, order and count.
    await store.ensure_index(coll, ["unit", "status", ("due", DESC)])
    t0 = time.perf_counter()
    await store.bulk_upsert(coll, _cases(n, seed))
    load_s = time.perf_counter() - t0
    assert await store.count(coll) == n

    rnd = random.Random(seed + 1)
    samples: list[float] = []
    matched: list[int] = []
    started = time.perf_counter()
    for i in range(warmup + runs):
        flt = {"unit": rnd.choice(UNITS), "status": {"$in": OPEN}}
        depth = rnd.random()
        t = time.perf_counter()
        total = await store.count(coll, flt)
        page = await store.find(
            coll, flt, [("due", DESC)], skip=int(depth * max(0, total - PAGE)), limit=PAGE
        )
        elapsed = (time.perf_counter() - t) * 1000
        assert len(page) == min(PAGE, total) and total > 0
        if i >= warmup:
            samples.append(elapsed)
            matched.append(total)
            if len(samples) >= min_runs and time.perf_counter() - started > time_budget_s:
                break
    return {
        "n": n,
        "runs": len(samples),
        "load_s": round(load_s, 2),
        "matched_avg": round(statistics.fmean(matched)),
        "p50_ms": round(_pct(samples, 0.50), 2),
        "p99_ms": round(_pct(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
    }


async def _main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("backend", choices=["sqlite", "mongo"])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--budget", type=float, default=120.0, help="seconds of queries at most")
    args = p.parse_args()
    store: DocumentStore
    if args.backend == "sqlite":
        root = BENCH_DIR / f"store-{uuid.uuid4().hex[:8]}"
        store = await SqliteStore.open(root / "store.sqlite3")
    else:
        url = os.environ.get("LEDGER_TEST_MONGO_URL")
        if not url:
            raise SystemExit("LEDGER_TEST_MONGO_URL is not set (tests/infra/ferretdb/ferretdb.sh)")
        store = await MongoStore.open(url, f"bench_{uuid.uuid4().hex[:8]}")
    try:
        result = await bench_heaviest_query(
            store,
            args.n,
            runs=args.runs,
            warmup=args.warmup,
            time_budget_s=args.budget,
            min_runs=min(20, args.runs),
        )
        print({"backend": args.backend, **result})
    finally:
        if isinstance(store, MongoStore):
            await store.drop_database()
        await store.close()
        if args.backend == "sqlite":
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(_main())
