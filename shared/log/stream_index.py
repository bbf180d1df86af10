"""A persistent stream index for a log without one (Kafka): which offsets of a partition hold a
stream's records, kept in a small SQLite file beside the service's state.

Kafka can only be read by offset, so finding one stream's records means scanning its
partition; at a city's scale (hundreds of millions of events) a restarted service would scan
for minutes before its first command. The index is built once, extended by the records
appended since (the tail only), and checked against the log before it is trusted: the record
at the last indexed offset of each partition must hash as it did when indexed (a topic
recreated under the same name, or another cluster, fails the check and the partition is
indexed again). Readers still compare each record's own stream, so a stale or colliding entry
can cost a wasted fetch, never a wrong record.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS indexed(
  partition INTEGER PRIMARY KEY, upto INTEGER NOT NULL, last_hash BLOB);
CREATE TABLE IF NOT EXISTS offsets(
  skey INTEGER NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  PRIMARY KEY (skey, partition, offset)) WITHOUT ROWID;
"""


@lru_cache(maxsize=1 << 16)
def stream_key(stream: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(stream.encode(), digest_size=8).digest(), "big", signed=True
    )


def record_hash(record: bytes) -> bytes:
    return hashlib.sha256(record).digest()


class StreamIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # an index lost in a crash is rebuilt
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def indexed(self, partition: int) -> tuple[int, bytes | None]:
        """How far ``partition`` is indexed, and the hash of the record just before."""
        with self._lock:
            row = self._db.execute(
                "SELECT upto, last_hash FROM indexed WHERE partition=?", (partition,)
            ).fetchone()
        return (int(row[0]), row[1]) if row else (0, None)

    def reset(self, partition: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM offsets WHERE partition=?", (partition,))
            self._db.execute("DELETE FROM indexed WHERE partition=?", (partition,))
            self._db.execute("COMMIT")

    def add(
        self, partition: int, entries: list[tuple[str, int]], upto: int, last_hash: bytes
    ) -> None:
        """Record (stream, offset) entries and that ``partition`` is indexed to ``upto``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO offsets(skey, partition, offset) VALUES (?, ?, ?)",
                [(stream_key(s), partition, o) for s, o in entries],
            )
            self._db.execute(
                "INSERT INTO indexed(partition, upto, last_hash) VALUES (?, ?, ?) "
                "ON CONFLICT(partition) DO UPDATE SET upto=excluded.upto, "
                "last_hash=excluded.last_hash WHERE excluded.upto > indexed.upto",
                (partition, upto, last_hash),
            )
            self._db.execute("COMMIT")

    def offsets(self, stream: str, partition: int, below: int) -> list[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT offset FROM offsets WHERE skey=? AND partition=? AND offset<? "
                "ORDER BY offset",
                (stream_key(stream), partition, below),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
