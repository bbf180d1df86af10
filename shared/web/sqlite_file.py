"""The small SQLite files a service keeps beside its read model (operators, command results).

One connection per operation, in autocommit mode with a busy timeout, so several workers or
processes can share a file; WAL so readers never block the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 10


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        yield db
    finally:
        db.close()


def create(path: Path, schema: str) -> None:
    """Make the file (and its folder) with this schema, in WAL mode; idempotent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
