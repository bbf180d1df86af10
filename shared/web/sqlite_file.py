"""The small SQLite files a service keeps beside its read model (operators, command results).

Autocommit connections with a busy timeout, so several workers or processes can share a file;
WAL so readers never block the writer. Each thread keeps the connections it opened for reuse
(opening one costs about as much as a hundred small queries, and a command opens three): one
per file, handed out to one ``with`` block at a time, kept only when it comes back outside a
transaction and the path still names the same file (one replaced by a restore gets a new
connection), its cursors closed first (a half-read one would pin an old snapshot), and closed
on any error.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_S = 10
KEPT_PER_THREAD = 4  # files a thread keeps a connection to (a service has two or three)

_FileId = tuple[str, int, int]
_kept = threading.local()


def _file_id(path: Path) -> _FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino)


def _pool() -> dict[_FileId, _Connection]:
    pool: dict[_FileId, _Connection] | None = getattr(_kept, "pool", None)
    if pool is None or getattr(_kept, "pid", None) != os.getpid():
        # A forked child never uses its parent's connections (SQLite forbids it).
        pool = _kept.pool = {}
        _kept.pid = os.getpid()
    return pool


class _Connection(sqlite3.Connection):
    """Remembers the cursors it handed out, so that one left half-read (its statement holding
    a read snapshot: later reads would not see newer commits) is closed before reuse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handed: list[weakref.ref[sqlite3.Cursor]] = []

    def _cursor(self) -> sqlite3.Cursor:
        cur = self.cursor()
        self.handed.append(weakref.ref(cur))
        return cur

    # The shortcuts the stores use (their C versions make cursors nobody could close).
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self._cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self._cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        return self._cursor().executescript(script)

    def close_cursors(self) -> None:
        for ref in self.handed:
            cur = ref()
            if cur is not None:
                cur.close()
        self.handed.clear()


def _open(path: Path) -> _Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, factory=_Connection)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    return db


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    pool = _pool()
    before = _file_id(path)
    db = pool.pop(before, None) if before is not None else None
    if db is None:
        db = _open(path)
    kept = False
    try:
        yield db
        db.close_cursors()
        after = _file_id(path)
        if after is not None and not db.in_transaction:
            twin = pool.pop(after, None)  # a nested block's, for the same file
            if twin is not None:
                twin.close()
            if len(pool) >= KEPT_PER_THREAD:
                pool.pop(next(iter(pool))).close()
            pool[after] = db
            kept = True
    finally:
        if not kept:
            db.close()


def create(path: Path, schema: str) -> None:
    """Make the file (and its folder) with this schema, in WAL mode; idempotent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
