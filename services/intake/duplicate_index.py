"""The duplicate index: every complaint's profile (:mod:`services.intake.duplicates`), its
LSH bands and the case it now belongs to, persisted, following the log from a saved position.

**Where it lives, and why not in the durable port.** One SQLite file per deployment,
``var/<deployment>/duplicate-index.sqlite3``. The durable port keeps versioned JSON entries
by (collection, key) and lists them by key prefix; an LSH lookup is "which complaints share
any of these 8 band keys, and which complaints about these units fall in this time window",
i.e. secondary indexes on (band key) and (unit, time). Through the port each band would be one
growing JSON entry rewritten by compare-and-set for every complaint (8 read-modify-writes per
complaint, 8 million entries at a million complaints), and a window scan would read whole
collections; FerretDB pushes down only exact ``_id`` filters. Besides, nothing here is data the
log cannot rebuild — the index is derived from the log alone (redacted texts, pseudonyms,
units, links) — so it needs no backup: dropping the file makes the next start rebuild it from
the log's start.

**Following the log.** The index stores, in the same transaction as the rows a batch of
records produced, the log position after that batch (:meth:`commit`). A restart resumes from
there: it reads only what was appended since (plus, lazily, the earlier history of a stream
first met in that tail, which the rule book needs to judge it). The causes still awaiting a
derived event (a screening to write, a gathered to write) are kept beside it, so a restart
forgets none.

Tables: ``complaints`` (one row per complaint: its profile, ``root`` — the case it is gathered
into, itself if none — and ``open``), ``bands(key, doc, at)`` (the LSH buckets, with each
complaint's time so a bucket is filtered without reading rows), ``positions``, ``pending``
(causes awaiting their derived events) and ``decisions`` (the screening outcomes and links
seen, for the review page). ``PRAGMA user_version`` holds :data:`SCHEMA_VERSION`; a file of
another version is emptied on opening and rebuilt from the log.

**A lookup** chooses its candidates from the indexes alone — each band's bucket read in
order only up to the limit (a stock phrase's bucket holds thousands), the (unit, time) window
from its covering index — then reads the chosen rows once, from the memory-mapped file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from services.intake.duplicates import Directory, Profile, Thresholds, window_micros
from shared.private_files import private_file

INDEX_FILE = "duplicate-index.sqlite3"

# Bumped whenever the tables change; a file of another version is emptied and rebuilt from the
# log (it holds nothing the log cannot give again). 2: ``bands`` carries each complaint's time.
SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS complaints (
  doc INTEGER PRIMARY KEY,
  case_id TEXT NOT NULL UNIQUE,
  complaint_no TEXT NOT NULL,
  received_by TEXT NOT NULL,
  unit TEXT NOT NULL,
  category TEXT NOT NULL,
  complainant TEXT,
  at INTEGER NOT NULL,
  text TEXT NOT NULL,
  keywords BLOB NOT NULL,
  root TEXT NOT NULL,
  open INTEGER NOT NULL DEFAULT 1,
  screened INTEGER NOT NULL DEFAULT 0,
  channel TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS complaints_unit_at ON complaints(unit, at);
CREATE INDEX IF NOT EXISTS complaints_root ON complaints(root);
CREATE TABLE IF NOT EXISTS bands (
  key INTEGER NOT NULL,
  doc INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (key, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
  partition INTEGER PRIMARY KEY,
  next_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  stream TEXT NOT NULL,
  cause BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
  event_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  case_id TEXT NOT NULL,
  other TEXT,
  received_by TEXT,
  detail BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions(at);
"""

# Lookups read pages straight from the mapped file (no read() call, no copy), keep the hot
# pages of the band and window indexes in SQLite's own cache, and sort in memory.
READ_PRAGMAS = (
    "PRAGMA mmap_size=2147418112",  # SQLite's default compile-time maximum
    "PRAGMA cache_size=-65536",  # 64 MiB
    "PRAGMA temp_store=MEMORY",
)

_COLUMNS = (
    "doc, case_id, complaint_no, received_by, unit, category, complainant, at, text, keywords, "
    "channel"
)


def _row(p: Profile) -> tuple[Any, ...]:
    return (
        p.case,
        p.complaint_no,
        p.received_by,
        p.unit,
        p.category,
        p.complainant,
        p.at,
        p.text,
        orjson.dumps(dict(p.keywords)),
        p.case,
        p.channel,
    )


def _profile(r: tuple[Any, ...]) -> Profile:
    return Profile(
        case=r[1],
        complaint_no=r[2],
        received_by=r[3],
        unit=r[4],
        category=r[5],
        complainant=r[6],
        at=r[7],
        text=r[8],
        keywords=orjson.loads(r[9]),
        channel=r[10],
    )


@dataclass(frozen=True)
class Decision:
    """One screening outcome, link, split or flag, as the review page lists it."""

    event_id: str
    at: int
    kind: str
    case: str
    other: str | None
    received_by: str | None
    detail: dict[str, Any]


class DuplicateIndex:
    """One deployment's index file; one writer (the screening worker), any number of readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_file(path)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for pragma in READ_PRAGMAS:
            self.db.execute(pragma)
        self._migrate()
        self.db.executescript(SCHEMA)
        self._in_tx = False

    def _migrate(self) -> None:
        """An empty file gets this version; one of another version is emptied (the worker then
        reads the log from its start, as for a deleted file)."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        if self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            self.db.execute("ROLLBACK")  # another process has just done it
            return
        tables = self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (name,) in tables:
            self.db.execute(f'DROP TABLE "{name}"')
        self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.db.execute("COMMIT")

    @classmethod
    def at(cls, var_dir: Path, deployment: str) -> DuplicateIndex:
        return cls(var_dir / deployment / INDEX_FILE)

    def close(self) -> None:
        if self._in_tx:
            self.db.execute("ROLLBACK")
            self._in_tx = False
        self.db.close()

    # -- writing (inside one transaction per batch of records) --------------------------------

    def begin(self) -> None:
        if not self._in_tx:
            self.db.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def add(self, p: Profile) -> None:
        self.begin()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO complaints (case_id, complaint_no, received_by, unit, "
            "category, complainant, at, text, keywords, root, channel) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _row(p),
        )
        if cur.rowcount:
            doc = cur.lastrowid
            self.db.executemany(
                "INSERT OR IGNORE INTO bands (key, doc, at) VALUES (?, ?, ?)",
                [(k, doc, p.at) for k in p.bands],
            )

    def set_root(self, case: str, root: str) -> None:
        self.begin()
        self.db.execute("UPDATE complaints SET root = ? WHERE case_id = ?", (root, case))

    def set_open(self, case: str, is_open: bool) -> None:
        self.begin()
        self.db.execute("UPDATE complaints SET open = ? WHERE case_id = ?", (int(is_open), case))

    def set_screened(self, case: str) -> None:
        self.begin()
        self.db.execute("UPDATE complaints SET screened = 1 WHERE case_id = ?", (case,))

    def is_screened(self, case: str) -> bool:
        r = self.db.execute("SELECT screened FROM complaints WHERE case_id = ?", (case,)).fetchone()
        return bool(r and r[0])

    def wait(self, derived_id: str, at: int, stream: str, cause: Mapping[str, Any]) -> None:
        """A cause awaiting its derived event; causes are decided in ``at`` order."""
        self.begin()
        self.db.execute(
            "INSERT OR IGNORE INTO pending (id, at, stream, cause) VALUES (?, ?, ?, ?)",
            (derived_id, at, stream, orjson.dumps(cause)),
        )

    def done(self, derived_id: str) -> bool:
        self.begin()
        return self.db.execute("DELETE FROM pending WHERE id = ?", (derived_id,)).rowcount > 0

    def record(self, d: Decision) -> None:
        self.begin()
        self.db.execute(
            "INSERT OR IGNORE INTO decisions VALUES (?,?,?,?,?,?,?)",
            (d.event_id, d.at, d.kind, d.case, d.other, d.received_by, orjson.dumps(d.detail)),
        )

    def commit(self, positions: Mapping[int, int]) -> None:
        """Keep the position reached with everything read up to it, in one transaction."""
        self.begin()
        self.db.executemany(
            "INSERT INTO positions (partition, next_offset) VALUES (?, ?) "
            "ON CONFLICT(partition) DO UPDATE SET next_offset = excluded.next_offset",
            sorted(positions.items()),
        )
        self.db.execute("COMMIT")
        self._in_tx = False

    def bulk_load(self, profiles: Iterable[Profile], chunk: int = 200_000) -> int:
        """Insert many profiles fast (one transaction per chunk); how many. For benchmarks and
        migrations: the worker adds complaints one by one as it reads them."""
        n = 0
        batch: list[Profile] = []
        self.db.execute("PRAGMA cache_size=-131072")  # 128 MiB while loading
        empty = self.count() == 0
        if empty:  # secondary indexes once at the end, not row by row
            self.db.execute("DROP INDEX IF EXISTS complaints_unit_at")
            self.db.execute("DROP INDEX IF EXISTS complaints_root")

        def flush() -> None:
            self.db.execute("BEGIN")
            first = self.db.execute("SELECT COALESCE(MAX(doc), 0) FROM complaints").fetchone()[0]
            self.db.executemany(
                "INSERT INTO complaints (doc, case_id, complaint_no, received_by, unit, "
                "category, complainant, at, text, keywords, root, channel) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(first + i + 1, *_row(p)) for i, p in enumerate(batch)],
            )
            bands = sorted((k, first + i + 1, p.at) for i, p in enumerate(batch) for k in p.bands)
            self.db.executemany("INSERT OR IGNORE INTO bands (key, doc, at) VALUES (?,?,?)", bands)
            self.db.execute("COMMIT")

        for p in profiles:
            batch.append(p)
            if len(batch) >= chunk:
                flush()
                n += len(batch)
                batch = []
        if batch:
            flush()
            n += len(batch)
        if empty:
            self.db.executescript(SCHEMA)
        self.db.execute(READ_PRAGMAS[1])
        return n

    # -- reading ------------------------------------------------------------------------------

    def positions(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT partition, next_offset FROM positions").fetchall())

    def pending(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self.db.execute("SELECT id, stream, cause FROM pending ORDER BY at, id").fetchall()
        return [(i, s, orjson.loads(c)) for i, s, c in rows]

    def get(self, case: str) -> Profile | None:
        r = self.db.execute(
            f"SELECT {_COLUMNS} FROM complaints WHERE case_id = ?", (case,)
        ).fetchone()
        return _profile(r) if r else None

    def root_of(self, case: str) -> tuple[str, bool] | None:
        """(the case it is gathered into — itself if none —, whether that case is open)."""
        r = self.db.execute("SELECT root FROM complaints WHERE case_id = ?", (case,)).fetchone()
        if r is None:
            return None
        o = self.db.execute("SELECT open FROM complaints WHERE case_id = ?", (r[0],)).fetchone()
        return r[0], bool(o[0]) if o else True

    def members(self, root: str) -> list[Profile]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM complaints WHERE root = ? OR case_id = ? ORDER BY at",
            (root, root),
        ).fetchall()
        return [_profile(r) for r in rows]

    def candidates(
        self, new: Profile, directory: Directory, t: Thresholds, limit: int = 200
    ) -> list[Profile]:
        """Complaints received before the new one that share an LSH band with it (at most
        ``limit // 4``), or are about a related unit within the window (the ``limit`` nearest
        in time: further ones lose more to the time penalty than a text can win back)."""
        own = self.db.execute("SELECT doc FROM complaints WHERE case_id = ?", (new.case,))
        mine = next((d for (d,) in own), 0)
        docs = dict.fromkeys(self._band_docs(new, mine, limit // 4))
        units = sorted(directory.related_units(new.unit))
        marks = ",".join("?" * len(units))
        window = self.db.execute(  # from the (unit, at) index alone: no row read to choose
            f"SELECT doc FROM complaints WHERE unit IN ({marks}) AND at BETWEEN ? AND ? "
            "AND doc != ? ORDER BY at DESC, doc DESC LIMIT ?",
            (*units, new.at - window_micros(t), new.at, mine, limit),
        )
        docs.update(dict.fromkeys(d for (d,) in window))
        if not docs:
            return []
        marks = ",".join("?" * len(docs))
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM complaints WHERE doc IN ({marks})", tuple(docs)
        ).fetchall()
        by_doc = {r[0]: r for r in rows}
        return [_profile(by_doc[d]) for d in docs if d in by_doc]

    def _band_docs(self, new: Profile, mine: int, n: int) -> list[int]:
        """The first ``n`` complaints (in the order they were indexed) that share a band with
        the new one and were received before it. A bucket can hold thousands (a stock phrase);
        each band is read only up to its first ``n + 1`` such entries (one more in case the
        new complaint is itself indexed), from the band index alone: any of the first ``n``
        overall is among the first ``n + 1`` of each band it is in."""
        docs: set[int] = set()
        for key in set(new.bands):
            docs.update(
                d
                for (d,) in self.db.execute(
                    "SELECT doc FROM bands WHERE key = ? AND at <= ? ORDER BY doc LIMIT ?",
                    (key, new.at, n + 1),
                )
            )
        docs.discard(mine)
        return sorted(docs)[:n]

    def recent_decisions(self, limit: int = 100, offset: int = 0) -> list[Decision]:
        rows = self.db.execute(
            "SELECT event_id, at, kind, case_id, other, received_by, detail FROM decisions "
            "WHERE kind != 'new' ORDER BY at DESC, event_id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [Decision(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6])) for r in rows]

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM complaints").fetchone()[0])

    def size_on_disk(self) -> int:
        """Bytes of the file and its write-ahead log."""
        return sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )


@contextmanager
def read_only(path: Path) -> Iterator[DuplicateIndex]:
    """An index opened for reading (the review page), closed after."""
    index = DuplicateIndex(path)
    try:
        yield index
    finally:
        index.close()
