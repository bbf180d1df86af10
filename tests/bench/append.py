"""Appending already-signed events: SqliteLog beside raw sqlite3 on the same bytes.

Raw limit: plain ``sqlite3`` in WAL mode with ``synchronous=FULL`` (the log's own durability:
the WAL is fsynced at every commit), a plain table, no indexes beyond the rowid.

The disk is shared and its fsync latency swings within seconds, so ours and the raw limit are
measured slice by slice, alternately, each on its own fresh file in the same directory: a slice
of raw, then the same slice through the log (the next slice the other way round). Each side's
rate is its events over the sum of its slices' wall time; ``repeat`` passes on fresh files give
the rounds whose median is reported.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from shared.log.sqlite import SqliteLog
from tests.bench.common import Workspace, median, remove_db

Records = list[tuple[str, bytes]]
_RAW_INSERT = "INSERT INTO records(stream, record) VALUES(?, ?)"


def _raw_open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA synchronous=FULL")
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.execute(
        "CREATE TABLE records(id INTEGER PRIMARY KEY, stream TEXT NOT NULL, record BLOB NOT NULL)"
    )
    return conn


def raw_txns(conn: sqlite3.Connection, records: Records, per_txn: int) -> None:
    for i in range(0, len(records), per_txn):
        conn.execute("BEGIN IMMEDIATE")
        if per_txn == 1:
            conn.execute(_RAW_INSERT, records[i])
        else:
            conn.executemany(_RAW_INSERT, records[i : i + per_txn])
        conn.execute("COMMIT")


# ---- ours: one slice of each workload -----------------------------------------------------

OurSlice = Callable[[SqliteLog, Records], Awaitable[None]]


def sequential(per_call: int) -> OurSlice:
    """``per_call`` events per ``append``, one call after the other."""

    async def run(log: SqliteLog, records: Records) -> None:
        for i in range(0, len(records), per_call):
            await log.append(records[i : i + per_call])

    return run


def concurrent_tasks(writers: int) -> OurSlice:
    """Rounds of ``writers`` asyncio tasks, each appending one event (durable when answered)."""

    async def run(log: SqliteLog, records: Records) -> None:
        for i in range(0, len(records), writers):
            await asyncio.gather(*(log.append([r]) for r in records[i : i + writers]))

    return run


@dataclass
class Pair:
    ours: float  # events/s
    raw: float
    commits: int  # write transactions the log ran


async def interleaved(
    ws: Workspace,
    name: str,
    records: Records,
    *,
    slice_size: int,
    raw_per_txn: int,
    ours: OurSlice,
    partitions: int,
) -> Pair:
    raw_path, our_path = ws.db(f"{name}-raw"), ws.db(f"{name}-ours")
    conn = _raw_open(raw_path)
    log = await SqliteLog.open(our_path, partitions)
    t_raw = t_ours = 0.0
    try:
        for k, i in enumerate(range(0, len(records), slice_size)):
            part = records[i : i + slice_size]
            for which in ("raw", "ours") if k % 2 == 0 else ("ours", "raw"):
                t0 = time.perf_counter()
                if which == "raw":
                    raw_txns(conn, part, raw_per_txn)
                    t_raw += time.perf_counter() - t0
                else:
                    await ours(log, part)
                    t_ours += time.perf_counter() - t0
        stored_raw = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        stored_ours = sum((await log.head()).values())
        assert stored_raw == stored_ours == len(records), (stored_raw, stored_ours, len(records))
        commits = log.commits
    finally:
        conn.close()
        await log.close()
        remove_db(raw_path)
        remove_db(our_path)
    return Pair(len(records) / t_ours, len(records) / t_raw, commits)


async def rounds(repeat: int, run: Callable[[], Awaitable[Pair]]) -> dict:
    pairs = [await run() for _ in range(repeat)]
    return {
        "ours": median([p.ours for p in pairs]),
        "raw": median([p.raw for p in pairs]),
        "ours_rounds": [p.ours for p in pairs],
        "raw_rounds": [p.raw for p in pairs],
        "commits": [p.commits for p in pairs],
    }


# ---- the rows -----------------------------------------------------------------------------


async def batched(ws: Workspace, records: Records, repeat: int, partitions: int) -> dict:
    """1,000 events per ``append`` vs raw 1,000 per transaction, slice = 1,000."""
    return await rounds(
        repeat,
        lambda: interleaved(
            ws, "batched", records, slice_size=1000, raw_per_txn=1000,
            ours=sequential(1000), partitions=partitions,
        ),
    )  # fmt: skip


async def single(ws: Workspace, records: Records, repeat: int, partitions: int) -> dict:
    """One event per ``append``, sequential, vs raw one transaction per event, slice = 10."""
    return await rounds(
        repeat,
        lambda: interleaved(
            ws, "single", records, slice_size=10, raw_per_txn=1,
            ours=sequential(1), partitions=partitions,
        ),
    )  # fmt: skip


async def concurrent(
    ws: Workspace, records: Records, repeat: int, writers: int, partitions: int
) -> dict:
    """Rounds of ``writers`` concurrent one-event appends vs raw one transaction per event."""
    out = await rounds(
        repeat,
        lambda: interleaved(
            ws, "concurrent", records, slice_size=writers, raw_per_txn=1,
            ours=concurrent_tasks(writers), partitions=partitions,
        ),
    )  # fmt: skip
    out["events_per_commit"] = len(records) / median([float(c) for c in out["commits"]])
    return out
