"""Appending already-signed events: SqliteLog beside raw sqlite3 on the same bytes.

Raw limit: plain ``sqlite3`` in WAL mode with ``synchronous=FULL`` (the log's own durability:
the WAL is fsynced at every commit), a plain table, no indexes beyond the rowid. Each pair of
measurements runs on fresh files in the same directory, alternating which goes first.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from shared.log.sqlite import SqliteLog
from tests.bench.common import Stopwatch, Timing, Workspace, median, remove_db

Records = list[tuple[str, bytes]]


# ---- raw sqlite3 --------------------------------------------------------------------------


def _raw_open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE records(id INTEGER PRIMARY KEY, stream TEXT NOT NULL, record BLOB NOT NULL)"
    )
    return conn


def raw_append(path: Path, records: Records, per_txn: int) -> Timing:
    conn = _raw_open(path)
    sql = "INSERT INTO records(stream, record) VALUES(?, ?)"
    try:
        with Stopwatch() as sw:
            for i in range(0, len(records), per_txn):
                conn.execute("BEGIN IMMEDIATE")
                if per_txn == 1:
                    conn.execute(sql, records[i])
                else:
                    conn.executemany(sql, records[i : i + per_txn])
                conn.execute("COMMIT")
        n = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        assert n == len(records), (n, len(records))
    finally:
        conn.close()
        remove_db(path)
    return sw.timing


# ---- ours ---------------------------------------------------------------------------------


async def _with_log(path: Path, partitions: int, body) -> tuple[Timing, SqliteLog, int]:  # type: ignore[no-untyped-def]
    log = await SqliteLog.open(path, partitions)
    try:
        with Stopwatch() as sw:
            await body(log)
        head = await log.head()
    finally:
        await log.close()
        remove_db(path)
    return sw.timing, log, sum(head.values())


async def ours_batched(path: Path, records: Records, per_call: int, partitions: int) -> Timing:
    async def body(log: SqliteLog) -> None:
        for i in range(0, len(records), per_call):
            await log.append(records[i : i + per_call])

    t, _, n = await _with_log(path, partitions, body)
    assert n == len(records), (n, len(records))
    return t


async def ours_concurrent(
    path: Path, records: Records, writers: int, partitions: int
) -> tuple[Timing, int]:
    """Rounds of ``writers`` asyncio tasks, each appending one event (durable when answered)."""

    async def body(log: SqliteLog) -> None:
        for i in range(0, len(records), writers):
            await asyncio.gather(*(log.append([r]) for r in records[i : i + writers]))

    t, log, n = await _with_log(path, partitions, body)
    assert n == len(records), (n, len(records))
    return t, log.commits


# ---- the paired measurements --------------------------------------------------------------


async def paired(
    ws: Workspace,
    name: str,
    records: Records,
    repeat: int,
    raw_per_txn: int,
    ours,  # type: ignore[no-untyped-def]  # async (path) -> Timing
) -> tuple[list[float], list[float]]:
    """Alternating rounds of raw and ours on the same records; events/s of each round."""
    raw_rates, our_rates = [], []
    for r in range(repeat):
        order = ("raw", "ours") if r % 2 == 0 else ("ours", "raw")
        for which in order:
            if which == "raw":
                t = raw_append(ws.db(f"{name}-raw"), records, raw_per_txn)
                raw_rates.append(len(records) / t.wall)
            else:
                t = await ours(ws.db(f"{name}-ours"))
                our_rates.append(len(records) / t.wall)
    return our_rates, raw_rates


async def batched(ws: Workspace, records: Records, repeat: int, partitions: int) -> dict:
    ours, raw = await paired(
        ws, "batched", records, repeat, 1000,
        lambda p: ours_batched(p, records, 1000, partitions),
    )
    return {"ours": median(ours), "raw": median(raw), "ours_rounds": ours, "raw_rounds": raw}


async def single(ws: Workspace, records: Records, repeat: int, partitions: int) -> dict:
    chunk = max(1, len(records) // repeat)
    ours, raw = [], []
    for r in range(repeat):
        part = records[r * chunk : (r + 1) * chunk]
        o, w = await paired(
            ws, "single", part, 1, 1, lambda p, part=part: ours_batched(p, part, 1, partitions)
        )
        ours += o
        raw += w
    return {"ours": median(ours), "raw": median(raw), "ours_rounds": ours, "raw_rounds": raw}


async def concurrent(
    ws: Workspace, records: Records, repeat: int, writers: int, partitions: int
) -> dict:
    commits: list[int] = []

    async def run(p: Path) -> Timing:
        t, c = await ours_concurrent(p, records, writers, partitions)
        commits.append(c)
        return t

    ours, raw = await paired(ws, "concurrent", records, repeat, 1, run)
    return {
        "ours": median(ours),
        "raw": median(raw),
        "ours_rounds": ours,
        "raw_rounds": raw,
        "events_per_commit": len(records) / median([float(c) for c in commits]),
    }


async def hundred(ws: Workspace, records: Records, saves: int, partitions: int) -> dict:
    """Ours for the peer's 100-event saves: one ``append`` of 100 events, sequential."""
    recs = (records * (1 + 100 * saves // max(1, len(records))))[: 100 * saves]
    t = await ours_batched(ws.db("hundred"), recs, 100, partitions)
    return {"ours": saves / t.wall}
