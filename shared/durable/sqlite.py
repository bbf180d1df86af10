"""The embedded default: a deployment's durable store in one SQLite file.

Layout: ``entries(coll, key, version, value)`` keyed by (collection, key), the value as its
canonical JSON text, and ``blobs(digest, size, data)``. WAL, ``synchronous=FULL`` (a write is
on disk before it is answered), a busy timeout so several processes may share the file; every
guarded write is one ``BEGIN IMMEDIATE`` transaction, so ``compare_and_set`` is exact across
processes too. The file and its folder are created owner-only (0600 / 0700) before SQLite
opens them; SQLite gives its ``-wal`` and ``-shm`` files the same permissions.

sqlite3 blocks, so every call runs on the store's one thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from shared.durable.port import (
    SCAN_PAGE,
    Backend,
    Entry,
    StoreDigest,
    blob_digest,
    check_collection,
    check_digest,
    check_key,
    check_version,
    checked_blob,
    decode_value,
    encode_value,
)
from shared.private_files import private_file

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries(
  coll TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (coll, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs(
  digest TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
"""


class SqliteDurableStore:
    """DurableStore on one SQLite file. Create with :meth:`open`."""

    backend: Backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ledger-durable")
        self._conn: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> SqliteDurableStore:
        store = cls(path)
        await store._call(store._init)
        return store

    def _init(self) -> None:
        private_file(self.path)
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
        self._conn = conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("durable store is closed")
        return self._conn

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return out

    @staticmethod
    def _version(db: sqlite3.Connection, coll: str, key: str) -> int:
        row = db.execute(
            "SELECT version FROM entries WHERE coll=? AND key=?", (coll, key)
        ).fetchone()
        return int(row[0]) if row else 0

    # -- entries ------------------------------------------------------------------------------

    async def get(self, coll: str, key: str) -> Entry | None:
        check_collection(coll)
        check_key(key)

        def go() -> Entry | None:
            row = self._db.execute(
                "SELECT version, value FROM entries WHERE coll=? AND key=?", (coll, key)
            ).fetchone()
            return Entry(coll, key, int(row[0]), decode_value(row[1])) if row else None

        return await self._call(go)

    async def put(self, coll: str, key: str, value: Mapping[str, Any]) -> int:
        check_collection(coll)
        check_key(key)
        text = encode_value(value)

        def go(db: sqlite3.Connection) -> int:
            version = self._version(db, coll, key) + 1
            db.execute(
                "INSERT INTO entries(coll, key, version, value) VALUES (?,?,?,?) "
                "ON CONFLICT(coll, key) DO UPDATE SET version=excluded.version, "
                "value=excluded.value",
                (coll, key, version, text),
            )
            return version

        return await self._call(self._write, go)

    async def compare_and_set(
        self, coll: str, key: str, value: Mapping[str, Any], expected_version: int
    ) -> int | None:
        check_collection(coll)
        check_key(key)
        check_version(expected_version)
        text = encode_value(value)

        def go(db: sqlite3.Connection) -> int | None:
            if self._version(db, coll, key) != expected_version:
                return None
            db.execute(
                "INSERT OR REPLACE INTO entries(coll, key, version, value) VALUES (?,?,?,?)",
                (coll, key, expected_version + 1, text),
            )
            return expected_version + 1

        return await self._call(self._write, go)

    async def delete(self, coll: str, key: str, expected_version: int | None = None) -> bool:
        check_collection(coll)
        check_key(key)
        if expected_version is not None:
            check_version(expected_version)

        def go(db: sqlite3.Connection) -> bool:
            if expected_version is None:
                cur = db.execute("DELETE FROM entries WHERE coll=? AND key=?", (coll, key))
            else:
                cur = db.execute(
                    "DELETE FROM entries WHERE coll=? AND key=? AND version=?",
                    (coll, key, expected_version),
                )
            return cur.rowcount > 0

        return await self._call(self._write, go)

    async def scan(
        self, coll: str, *, prefix: str = "", after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[Entry]:
        check_collection(coll)
        if prefix:
            check_key(prefix)
        if after is not None:
            check_key(after)

        def go() -> list[Entry]:
            sql = "SELECT key, version, value FROM entries WHERE coll=?"
            params: list[Any] = [coll]
            if prefix:
                # substr counts characters of TEXT; keys compare by their UTF-8 bytes (BINARY).
                sql += " AND key >= ? AND substr(key, 1, ?) = ?"
                params += [prefix, len(prefix), prefix]
            if after is not None:
                sql += " AND key > ?"
                params.append(after)
            sql += " ORDER BY key LIMIT ?"
            params.append(max(0, limit))
            return [
                Entry(coll, k, int(v), decode_value(t)) for k, v, t in self._db.execute(sql, params)
            ]

        return await self._call(go)

    async def collections(self) -> list[str]:
        def go() -> list[str]:
            return [
                r[0] for r in self._db.execute("SELECT DISTINCT coll FROM entries ORDER BY coll")
            ]

        return await self._call(go)

    async def load(self, entries: Iterable[Entry]) -> int:
        rows = [
            (
                check_collection(e.collection),
                check_key(e.key),
                e.version,
                encode_value(e.value),
            )
            for e in entries
        ]

        def go(db: sqlite3.Connection) -> int:
            db.executemany(
                "INSERT OR REPLACE INTO entries(coll, key, version, value) VALUES (?,?,?,?)", rows
            )
            return len(rows)

        return await self._call(self._write, go)

    # -- blobs --------------------------------------------------------------------------------

    async def put_blob(self, data: bytes) -> str:
        digest = blob_digest(data)
        raw = bytes(data)

        def go(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO blobs(digest, size, data) VALUES (?,?,?)",
                (digest, len(raw), raw),
            )

        await self._call(self._write, go)
        return digest

    async def get_blob(self, digest: str) -> bytes | None:
        check_digest(digest)

        def go() -> bytes | None:
            row = self._db.execute("SELECT data FROM blobs WHERE digest=?", (digest,)).fetchone()
            return checked_blob(digest, bytes(row[0])) if row else None

        return await self._call(go)

    async def has_blob(self, digest: str) -> bool:
        check_digest(digest)

        def go() -> bool:
            row = self._db.execute("SELECT 1 FROM blobs WHERE digest=?", (digest,)).fetchone()
            return row is not None

        return await self._call(go)

    async def delete_blob(self, digest: str) -> bool:
        check_digest(digest)

        def go(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM blobs WHERE digest=?", (digest,)).rowcount > 0

        return await self._call(self._write, go)

    async def blobs(self, *, after: str | None = None, limit: int = SCAN_PAGE) -> list[str]:
        def go() -> list[str]:
            rows = self._db.execute(
                "SELECT digest FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?",
                (after or "", max(0, limit)),
            )
            return [r[0] for r in rows]

        return await self._call(go)

    # -- whole store --------------------------------------------------------------------------

    async def digest(self) -> str:
        def go() -> str:
            d = StoreDigest()
            db = self._db
            db.execute("BEGIN")  # one snapshot for the whole digest
            try:
                for coll, key, version, value in db.execute(
                    "SELECT coll, key, version, value FROM entries ORDER BY coll, key"
                ):
                    d.entry(coll, key, int(version), value)
                for digest, size in db.execute("SELECT digest, size FROM blobs ORDER BY digest"):
                    d.blob(digest, int(size))
            finally:
                db.execute("ROLLBACK")
            return d.hexdigest()

        return await self._call(go)

    async def ping(self) -> bool:
        try:
            await self._call(lambda: self._db.execute("SELECT 1").fetchone())
        except Exception:
            return False
        return True

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, conn.close)
        self._pool.shutdown(wait=True)
