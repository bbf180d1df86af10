"""The small SQLite files' connections: reused by a thread, never across a replaced file, a
transaction left open or a nested block."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from shared.web import sqlite_file

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT);"


def test_a_thread_reuses_its_connection_and_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    sqlite_file.create(path, SCHEMA)
    with sqlite_file.connect(path) as a:
        a.execute("INSERT INTO t VALUES ('x', '1')")
    with sqlite_file.connect(path) as b:
        assert b is a
        # A write from another connection (another process, say) is seen at once.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("UPDATE t SET v = '2' WHERE k = 'x'")
        other.close()
        assert b.execute("SELECT v FROM t").fetchone() == ("2",)


def test_nested_blocks_get_their_own_connections(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    sqlite_file.create(path, SCHEMA)
    with sqlite_file.connect(path) as outer:
        outer.execute("BEGIN IMMEDIATE")
        with sqlite_file.connect(path) as inner:
            assert inner is not outer
        outer.execute("COMMIT")


def test_a_connection_left_in_a_transaction_or_failing_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    sqlite_file.create(path, SCHEMA)
    with sqlite_file.connect(path) as a:
        a.execute("BEGIN")
    with sqlite_file.connect(path) as b:
        assert b is not a
        assert not b.in_transaction
    with pytest.raises(RuntimeError), sqlite_file.connect(path) as c:
        raise RuntimeError("boom")
    with sqlite_file.connect(path) as d:
        assert d is not c


def test_a_replaced_file_gets_a_new_connection(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    sqlite_file.create(path, SCHEMA)
    with sqlite_file.connect(path) as a:
        a.execute("INSERT INTO t VALUES ('old', '1')")
    fresh = tmp_path / "restored.sqlite"  # a restored copy, written whole elsewhere
    r = sqlite3.connect(fresh, isolation_level=None)
    r.executescript(SCHEMA + "INSERT INTO t VALUES ('new', '1');")
    r.close()
    for suffix in ("", "-wal", "-shm"):
        if (tmp_path / f"f.sqlite{suffix}").exists():
            os.remove(tmp_path / f"f.sqlite{suffix}")
    os.rename(fresh, path)
    with sqlite_file.connect(path) as b:
        assert b is not a
        assert [row[0] for row in b.execute("SELECT k FROM t")] == ["new"]


def test_a_thread_keeps_connections_to_a_few_files_only(tmp_path: Path) -> None:
    paths = [tmp_path / f"f{i}.sqlite" for i in range(sqlite_file.KEPT_PER_THREAD + 1)]
    first = None
    for path in paths:
        sqlite_file.create(path, SCHEMA)
        with sqlite_file.connect(path) as db:
            first = first or db
    # The first file's connection made room for the last one's: closed, not handed out again.
    with sqlite_file.connect(paths[0]) as db:
        assert db is not first
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")


def test_a_cursor_left_half_read_does_not_pin_an_old_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    sqlite_file.create(path, SCHEMA)
    with sqlite_file.connect(path) as db:
        db.execute("INSERT INTO t VALUES ('a', '1'), ('b', '1')")
    with sqlite_file.connect(path) as db:
        half_read = db.execute("SELECT k FROM t ORDER BY k")
        assert half_read.fetchone() == ("a",)
        first = db
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("UPDATE t SET v = '2'")
    other.close()
    with sqlite_file.connect(path) as db:
        assert db is first
        assert db.execute("SELECT v FROM t WHERE k = 'a'").fetchone() == ("2",)
