"""The embedded event log: one SQLite file in WAL mode, shared safely by several processes.

- Durable before acknowledged: ``synchronous=FULL`` in WAL mode fsyncs the WAL at every commit,
  and no caller is answered before its commit returned.
- Group commit: appends arriving while a commit is on disk wait and share the next one.
- The log stamps the append time inside the write transaction (monotonic per partition), so
  the time that counts is the log's, never the writer's claim.
- Readers read in chunks, each its own short read transaction, so the WAL can checkpoint.
- Streams are placed on partitions by Kafka's partitioner; the partition count is fixed when
  the file is created.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.events.partitioner import partition_for
from shared.log.port import Appended, Positions, StoredRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heads(
  partition INTEGER PRIMARY KEY, next INTEGER NOT NULL, last_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  pos INTEGER PRIMARY KEY,
  skey INTEGER NOT NULL,
  stream TEXT NOT NULL,
  appended_at INTEGER NOT NULL,
  record BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_stream ON records(skey, pos);
"""
# pos = (partition << 40) | offset: the rowid itself orders and locates a record (partition and
# offset are read back from it), so an append updates two B-trees: the table and the small
# integer stream index.
OFFSET_BITS = 40
OFFSET_MASK = (1 << OFFSET_BITS) - 1


def position(partition: int, offset: int) -> int:
    return (partition << OFFSET_BITS) + offset  # offset == 2**40 is the exclusive end


@lru_cache(maxsize=1 << 16)
def stream_key(stream: str) -> int:
    """A 64-bit key of the stream for the index; readers also compare the stream itself."""
    return int.from_bytes(
        hashlib.blake2b(stream.encode(), digest_size=8).digest(), "big", signed=True
    )


BUSY_TIMEOUT_MS = 30_000


class LogStorageError(RuntimeError):
    """The file holds something this log's own writer never writes: a row beyond a partition's
    head, a missing head, a column of the wrong type. Named at its place; never a traceback."""


class PartitionCountMismatch(LogStorageError):
    pass


class RowBeyondHead(LogStorageError):
    """A record sits at or beyond a partition's head: appending there would collide with it."""


def _check_row(row: tuple[Any, ...]) -> None:
    """Raise naming the record if a column of ``(pos, stream, appended_at, record)`` has the
    wrong type (what an edit of the file can leave behind)."""
    pos, stream, at, record = row
    if type(record) is bytes and type(stream) is str and type(at) is int:
        return
    for name, value, kind in (
        ("stream", stream, str),
        ("appended_at", at, int),
        ("record", record, bytes),
    ):
        if type(value) is not kind:
            raise LogStorageError(
                f"malformed record at partition {pos >> OFFSET_BITS} offset {pos & OFFSET_MASK}: "
                f"column {name} holds {type(value).__name__}, not {kind.__name__}"
            )


def _check_heads(rows: list[tuple[Any, ...]], partitions: int) -> dict[int, list[int]]:
    heads: dict[int, list[int]] = {}
    for row in rows:
        if not all(type(v) is int for v in row):
            raise LogStorageError(f"malformed heads row {row[0]!r}: a column is not an integer")
        heads[row[0]] = [row[1], row[2]]
    missing = [p for p in range(partitions) if p not in heads]
    if missing:
        raise LogStorageError(f"the heads table has no row for partition {missing[0]}")
    return heads


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


class SqliteLog:
    """EventLog on one SQLite file. Create with ``await SqliteLog.open(path, partitions)``."""

    def __init__(self, path: Path, partitions: int) -> None:
        self.path = path
        self._partitions = partitions
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ledger-log-write")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="ledger-log-read")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._pending: list[
            tuple[list[tuple[int, str, bytes]], asyncio.Future[list[Appended]]]
        ] = []
        self._committing = False
        self.commits = 0  # how many write transactions ran (group commit is visible here)

    @classmethod
    async def open(cls, path: Path, partitions: int) -> SqliteLog:
        log = cls(path, partitions)
        path.parent.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(log._writer, log._init_writer)
        await loop.run_in_executor(log._reader, log._init_reader)
        return log

    @property
    def partitions(self) -> int:
        return self._partitions

    # ---- setup (in the executors' threads) ----

    def _init_writer(self) -> None:
        conn = self._wconn = _connect(self.path)
        conn.execute("BEGIN IMMEDIATE")
        for stmt in _SCHEMA.strip().split(";"):
            if stmt.strip():
                conn.execute(stmt)
        row = conn.execute("SELECT value FROM meta WHERE key='partitions'").fetchone()
        if row is None and (
            conn.execute("SELECT 1 FROM records LIMIT 1").fetchone()
            or conn.execute("SELECT 1 FROM heads LIMIT 1").fetchone()
        ):
            conn.execute("ROLLBACK")
            raise LogStorageError(
                f"{self.path}: the meta table has no partition count, yet the file holds a log"
            )
        if row is None:
            conn.execute("INSERT INTO meta VALUES('partitions', ?)", (str(self._partitions),))
            conn.executemany(
                "INSERT INTO heads VALUES(?, 0, 0)", [(p,) for p in range(self._partitions)]
            )
        elif str(row[0]) != str(self._partitions):
            conn.execute("ROLLBACK")
            raise PartitionCountMismatch(
                f"{self.path} has {row[0]} partitions; a log never changes its partition count"
            )
        conn.execute("COMMIT")

    def _init_reader(self) -> None:
        self._rconn = _connect(self.path)

    async def warm_up(self) -> None:
        """What a first append would otherwise pay after a restart: the writer connection's
        page cache holds the heads, the tail of every partition and the stream index's pages
        the next appends touch, and its statements are prepared."""
        await asyncio.get_running_loop().run_in_executor(self._writer, self._warm_up_sync)

    def _warm_up_sync(self) -> None:
        conn = self._wconn
        assert conn is not None
        conn.execute("SELECT partition, next, last_at FROM heads").fetchall()
        for p in range(self._partitions):
            conn.execute(
                "SELECT pos, skey FROM records WHERE pos<? ORDER BY pos DESC LIMIT 1",
                (position(p + 1, 0),),
            ).fetchone()
            conn.execute(
                "SELECT pos FROM records WHERE pos>=? AND pos<? LIMIT 1",
                (position(p, 0), position(p + 1, 0)),
            ).fetchone()

    # ---- append with group commit ----

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[Appended]:
        if not records:
            return []
        placed = [(partition_for(s, self._partitions), s, r) for s, r in records]
        fut: asyncio.Future[list[Appended]] = asyncio.get_running_loop().create_future()
        self._pending.append((placed, fut))
        if not self._committing:
            self._committing = True
            asyncio.get_running_loop().create_task(self._commit_loop())
        return await fut

    async def _commit_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await loop.run_in_executor(self._writer, self._commit, batch)
                except BaseException as exc:  # every waiter learns the commit failed
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
        finally:
            self._committing = False

    def _commit(
        self, batch: list[tuple[list[tuple[int, str, bytes]], asyncio.Future[list[Appended]]]]
    ) -> list[list[Appended]]:
        conn = self._wconn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            heads = _check_heads(
                conn.execute("SELECT partition, next, last_at FROM heads").fetchall(),
                self._partitions,
            )
            for p in {p for placed, _ in batch for p, _, _ in placed}:
                planted = conn.execute(
                    "SELECT pos FROM records WHERE pos>=? AND pos<? LIMIT 1",
                    (position(p, heads[p][0]), position(p + 1, 0)),
                ).fetchone()
                if planted is not None:
                    raise RowBeyondHead(
                        f"partition {p} holds a record at offset {planted[0] & OFFSET_MASK}, at or "
                        f"beyond its head {heads[p][0]}: the log file was edited (run ledger "
                        "verify); nothing was appended"
                    )
            now = time.time_ns() // 1000
            rows: list[tuple[int, int, str, int, bytes]] = []
            results: list[list[Appended]] = []
            skey = stream_key
            add_row = rows.append
            for placed, _ in batch:
                out: list[Appended] = []
                add = out.append
                for p, stream, record in placed:
                    head = heads[p]
                    at = now if now > head[1] else head[1]
                    off = head[0]
                    add_row(((p << OFFSET_BITS) + off, skey(stream), stream, at, record))
                    add(Appended(p, off, at))
                    head[0] = off + 1
                    head[1] = at
                results.append(out)
            conn.executemany(
                "INSERT INTO records(pos, skey, stream, appended_at, record) VALUES(?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "UPDATE heads SET next=?, last_at=? WHERE partition=?",
                [(n, last, p) for p, (n, last) in heads.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.commits += 1
        return results

    # ---- reads (chunked, each its own read transaction) ----

    async def _read(self, fn, *args):  # type: ignore[no-untyped-def]
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, *args)

    async def head(self) -> Positions:
        rows = await self._read(self._head)
        return dict(rows)

    def _head(self) -> list[tuple[int, int]]:
        assert self._rconn is not None
        rows = self._rconn.execute("SELECT partition, next, last_at FROM heads").fetchall()
        heads = _check_heads(rows, self._partitions)
        return [(p, heads[p][0]) for p in range(self._partitions)]

    async def read(
        self, start: Mapping[int, int], *, limit: int = 1000, until: Mapping[int, int] | None = None
    ) -> list[StoredRecord]:
        result: list[StoredRecord] = await self._read(self._read_sync, dict(start), limit, until)
        return result

    def _read_sync(
        self, start: dict[int, int], limit: int, until: Mapping[int, int] | None
    ) -> list[StoredRecord]:
        conn = self._rconn
        assert conn is not None
        out: list[StoredRecord] = []
        for p in range(self._partitions):
            room = limit - len(out)
            if room <= 0:
                break
            lo = start.get(p, 0)
            hi = until.get(p, 0) if until is not None else 1 << OFFSET_BITS
            if lo >= hi:
                continue
            cur = conn.execute(
                "SELECT pos, stream, appended_at, record FROM records "
                "WHERE pos>=? AND pos<? ORDER BY pos LIMIT ?",
                (position(p, lo), position(p, hi), room),
            )
            for row in cur:
                _check_row(row)
                g = row[0]
                out.append(StoredRecord(g >> OFFSET_BITS, g & OFFSET_MASK, *row[1:]))
        return out

    async def read_stream(
        self, stream: str, *, until: Mapping[int, int] | None = None, chunk: int = 1000
    ) -> AsyncIterator[StoredRecord]:
        p = partition_for(stream, self._partitions)
        hi = position(p, until.get(p, 0) if until is not None else 1 << OFFSET_BITS)
        after = position(p, 0) - 1
        while True:
            rows: list[StoredRecord]
            rows, after = await self._read(self._stream_sync, stream, after, hi, chunk)
            for rec in rows:
                yield rec
            if after < 0:
                return

    def _stream_sync(
        self, stream: str, after: int, hi: int, chunk: int
    ) -> tuple[list[StoredRecord], int]:
        """One chunk of the stream after position ``after``; -1 when the stream is done."""
        assert self._rconn is not None
        cur = self._rconn.execute(
            "SELECT pos, stream, appended_at, record FROM records "
            "WHERE skey=? AND pos>? AND pos<? ORDER BY pos LIMIT ?",
            (stream_key(stream), after, hi, chunk),
        )
        rows = cur.fetchall()
        found = []
        for row in rows:
            _check_row(row)
            if row[1] == stream:
                g = row[0]
                found.append(StoredRecord(g >> OFFSET_BITS, g & OFFSET_MASK, *row[1:]))
        return found, (rows[-1][0] if len(rows) == chunk else -1)

    # ---- the file as stored, for ``ledger verify`` (nothing trusted, nothing converted) ----

    async def stored_rows(self, after: int | None, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows ``(pos, skey, stream, appended_at, record)`` exactly as stored,
        after position ``after`` (None: from the first), in position order — every row of the
        table, whatever its partition, head or column types."""
        rows: list[tuple[Any, ...]] = await self._read(self._stored_rows, after, limit)
        return rows

    def _stored_rows(self, after: int | None, limit: int) -> list[tuple[Any, ...]]:
        assert self._rconn is not None
        if after is None:
            cur = self._rconn.execute(
                "SELECT pos, skey, stream, appended_at, record FROM records ORDER BY pos LIMIT ?",
                (limit,),
            )
        else:
            cur = self._rconn.execute(
                "SELECT pos, skey, stream, appended_at, record FROM records "
                "WHERE pos>? ORDER BY pos LIMIT ?",
                (after, limit),
            )
        return cur.fetchall()

    async def stored_heads(self) -> list[tuple[Any, ...]]:
        """Every row ``(partition, next, last_at)`` of the heads table, exactly as stored."""
        rows: list[tuple[Any, ...]] = await self._read(
            lambda: self._rconn.execute(  # type: ignore[union-attr]
                "SELECT partition, next, last_at FROM heads ORDER BY partition"
            ).fetchall()
        )
        return rows

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for conn, ex in ((self._wconn, self._writer), (self._rconn, self._reader)):
            if conn is not None:
                await loop.run_in_executor(ex, conn.close)
            ex.shutdown(wait=True)
        self._wconn = self._rconn = None
