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
import sqlite3
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from pymongo import AsyncMongoClient

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


# One page request: which unit's open work, and how deep into its pages (0..1).
Request = tuple[str, float]
# Runs one request; returns how many documents matched (the pager's total).
Page = Callable[[Request], Awaitable[int]]


def requests(seed: int, count: int) -> list[Request]:
    rnd = random.Random(seed + 1)
    return [(rnd.choice(UNITS), rnd.random()) for _ in range(count)]


async def _timed(
    page: Page, reqs: list[Request], warmup: int, time_budget_s: float, min_runs: int
) -> dict[str, float]:
    """Milliseconds per page over ``reqs`` (after ``warmup`` of them); stops early after
    ``time_budget_s`` once ``min_runs`` are in (FerretDB scans: a run there takes seconds)."""
    samples: list[float] = []
    matched: list[int] = []
    started = time.perf_counter()
    for i, req in enumerate(reqs):
        t = time.perf_counter()
        total = await page(req)
        elapsed = (time.perf_counter() - t) * 1000
        if i >= warmup:
            samples.append(elapsed)
            matched.append(total)
            if len(samples) >= min_runs and time.perf_counter() - started > time_budget_s:
                break
    return {
        "runs": len(samples),
        "matched_avg": round(statistics.fmean(matched)),
        "p50_ms": round(_pct(samples, 0.50), 2),
        "p99_ms": round(_pct(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
    }


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
    find of one page plus its count). Returns milliseconds per page."""
    await store.drop_collection(coll)
    # Equality fields first, the sort field last: one index serves filter, order and count.
    await store.ensure_index(coll, ["unit", "status", ("due", DESC)])
    t0 = time.perf_counter()
    await store.bulk_upsert(coll, _cases(n, seed))
    load_s = time.perf_counter() - t0
    assert await store.count(coll) == n

    async def page(req: Request) -> int:
        flt = {"unit": req[0], "status": {"$in": OPEN}}
        total = await store.count(coll, flt)
        skip = int(req[1] * max(0, total - PAGE))
        got = await store.find(coll, flt, [("due", DESC)], skip=skip, limit=PAGE)
        assert len(got) == min(PAGE, total) and total > 0
        return total

    timed = await _timed(page, requests(seed, warmup + runs), warmup, time_budget_s, min_runs)
    return {"n": n, "load_s": round(load_s, 2), **timed}


async def raw_sqlite_query(
    path: Path, n: int = 100_000, *, runs: int = 200, warmup: int = 5, seed: int = 1
) -> dict[str, float]:
    """The machine's limit for the same page: the same cases in a plain table with real
    columns and a covering index, the same requests by hand-written SQL through ``sqlite3``
    on the calling thread, documents decoded from JSON as a page needs them."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE cases (id TEXT PRIMARY KEY, unit TEXT, status TEXT, due TEXT, doc TEXT)"
    )
    conn.execute("CREATE INDEX ix ON cases (unit, status, due DESC, id DESC)")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?)",
        (
            (d["_id"], d["unit"], d["status"], d["due"], orjson.dumps(d).decode())
            for d in _cases(n, seed)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    where = "unit = ? AND status IN (?, ?)"

    async def page(req: Request) -> int:
        args = (req[0], *OPEN)
        (total,) = conn.execute(f"SELECT count(*) FROM cases WHERE {where}", args).fetchone()
        skip = int(req[1] * max(0, total - PAGE))
        # The page's rowids from the index first, then only their documents.
        rows = conn.execute(
            "SELECT doc FROM cases WHERE rowid IN (SELECT rowid FROM cases WHERE "
            f"{where} ORDER BY due DESC, id DESC LIMIT ? OFFSET ?) ORDER BY due DESC, id DESC",
            (*args, PAGE, skip),
        ).fetchall()
        got = [orjson.loads(r[0]) for r in rows]
        assert len(got) == min(PAGE, total) and total > 0
        return int(total)

    try:
        return await _timed(page, requests(seed, warmup + runs), warmup, 1e9, runs)
    finally:
        conn.close()


async def raw_mongo_query(
    url: str,
    database: str,
    *,
    runs: int = 200,
    warmup: int = 5,
    time_budget_s: float = 120.0,
    min_runs: int = 20,
    coll: str = "bench_cases",
    seed: int = 1,
) -> dict[str, float]:
    """The server's limit for the same page: PyMongo's own ``count_documents`` and ``find``
    on the collection :func:`bench_heaviest_query` loaded, none of the adapter's work."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    c = client[database][coll]

    async def page(req: Request) -> int:
        flt = {"unit": req[0], "status": {"$in": OPEN}}
        total = await c.count_documents(flt)
        skip = int(req[1] * max(0, total - PAGE))
        got = await c.find(flt, sort=[("due", -1)], skip=skip, limit=PAGE).to_list()
        assert len(got) == min(PAGE, total) and total > 0
        return total

    try:
        return await _timed(page, requests(seed, warmup + runs), warmup, time_budget_s, min_runs)
    finally:
        await client.close()


async def sqlite_pair(root: Path, n: int, runs: int, warmup: int = 5) -> dict[str, Any]:
    """Ours (the SQLite adapter) and the raw limit, on the same cases and requests."""
    store = await SqliteStore.open(root / "store.sqlite3")
    try:
        ours = await bench_heaviest_query(store, n, runs=runs, warmup=warmup, time_budget_s=1e9)
    finally:
        await store.close()
    raw = await raw_sqlite_query(root / "raw.sqlite3", n, runs=runs, warmup=warmup)
    return {"ours": ours, "raw": raw}


async def mongo_pair(
    url: str, n: int, runs: int, warmup: int = 5, budget: float = 120.0, min_runs: int = 20
) -> dict[str, Any]:
    """Ours (the MongoDB adapter) and PyMongo's own calls, on one loaded database."""
    database = f"bench_{uuid.uuid4().hex[:8]}"
    store = await MongoStore.open(url, database)
    try:
        ours = await bench_heaviest_query(
            store, n, runs=runs, warmup=warmup, time_budget_s=budget, min_runs=min_runs
        )
        raw = await raw_mongo_query(
            url, database, runs=runs, warmup=warmup, time_budget_s=budget, min_runs=min_runs
        )
    finally:
        await store.drop_database()
        await store.close()
    return {"ours": ours, "raw": raw}


async def _main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("backend", choices=["sqlite", "mongo"])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--budget", type=float, default=120.0, help="seconds of queries at most")
    args = p.parse_args()
    if args.backend == "sqlite":
        root = BENCH_DIR / f"store-{uuid.uuid4().hex[:8]}"
        root.mkdir(parents=True)
        try:
            result = await sqlite_pair(root, args.n, args.runs, args.warmup)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    else:
        url = os.environ.get("LEDGER_TEST_MONGO_URL")
        if not url:
            raise SystemExit("LEDGER_TEST_MONGO_URL is not set (tests/infra/ferretdb/ferretdb.sh)")
        result = await mongo_pair(
            url, args.n, args.runs, args.warmup, args.budget, min(20, args.runs)
        )
    for side, values in result.items():
        print(side, values)


if __name__ == "__main__":
    asyncio.run(_main())
