"""The nonces of accepted internal calls, remembered for as long as their signatures are within
the window (no longer), so each signed request is accepted once.

One SQLite file under the service's var directory (``<var>/<service>/call-nonces.sqlite3``,
owner-only): a restart inside the window does not reopen it to replays, and the service's
processes share it. Bounded: expired nonces are deleted as new ones arrive, and past
``max_entries`` live ones a call is refused as busy rather than remembered by growing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

MAX_ENTRIES = 200_000


class NonceStoreFull(Exception):
    """More live nonces than the store keeps: refuse the call (busy), remember nothing."""


class NonceStore:
    def __init__(self, path: Path, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute(
                "CREATE TABLE IF NOT EXISTS nonces (key BLOB PRIMARY KEY, expires INTEGER NOT NULL)"
                " WITHOUT ROWID"
            )
            db.execute("CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires)")
            self._db = db
        return self._db

    def first_use(self, kid: str, nonce: str, *, expires: int, now: int) -> bool:
        """Remember (kid, nonce) until ``expires``; False if it is already remembered."""
        key = hashlib.sha256(f"{kid}\n{nonce}".encode()).digest()
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM nonces WHERE expires < ?", (now,))
                (live,) = db.execute("SELECT count(*) FROM nonces").fetchone()
                if live >= self.max_entries:
                    raise NonceStoreFull
                cur = db.execute(
                    "INSERT OR IGNORE INTO nonces (key, expires) VALUES (?, ?)", (key, expires)
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return cur.rowcount == 1

    def count(self) -> int:
        with self._lock:
            (n,) = self._conn().execute("SELECT count(*) FROM nonces").fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
