"""The embedded default: a DocumentStore in one SQLite file.

Layout, per collection ``c``: table ``doc_c(rid INTEGER PRIMARY KEY, id TEXT UNIQUE, doc TEXT)``
with the document as JSON (without ``_id``); indexes on ``json_extract(doc, '$.field')``
expressions (queries spell fields the same way, which is what lets the planner use them); and,
once text fields are declared, an FTS5 table ``fts_c`` of pre-made tokens (see
:mod:`shared.store.search_tokens`) whose rowid is the document's ``rid``. Table ``_meta`` keeps
the text declarations.

Threads: sqlite3 blocks, so every call runs off the event loop. One writer thread owns the only
writing connection (SQLite admits one writer anyway, and this serialises our transactions);
a small pool of read-only connections serves queries in parallel, which WAL allows.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

import orjson

from shared.store.json_form import Digest, decode, encode_body, guarded, guarded_batch
from shared.store.port import Doc, DocumentStore, Filter, IndexSpec, InvalidQuery, Scalar, SortSpec
from shared.store.query import (
    ID_FIELD,
    Condition,
    check_collection,
    check_field,
    check_guard,
    check_id,
    check_page,
    index_name,
    parse_filter,
    parse_index,
    parse_sort,
)
from shared.store.search_tokens import document_tokens, query_tokens

T = TypeVar("T")

_BULK_CHUNK = 2000
_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit
_TOKEN_CHUNK = 5000


_Put = tuple[Mapping[str, Any], tuple[str, int] | None]
"""A document to write (with its ``_id``) and its guard (field, value), if any."""


class _Row(NamedTuple):
    id: str
    body: str
    tokens: list[str] | None  # None: the collection has no text fields


def _doc_table(coll: str) -> str:
    return f'"doc_{coll}"'


def _fts_table(coll: str) -> str:
    return f'"fts_{coll}"'


def _expr(field: str) -> str:
    # Must be spelled identically in indexes and queries for the planner to match them.
    return "id" if field == ID_FIELD else f"json_extract(doc, '$.{field}')"


def _missing_table(exc: sqlite3.OperationalError) -> bool:
    # A collection nobody wrote yet reads as empty, as in MongoDB.
    return "no such table" in str(exc)


def _fts_match(tokens: Sequence[str]) -> str:
    # Tokens hold only letters, digits and CJK characters, so quoting needs no escaping.
    return " AND ".join(f'"{t}"' for t in tokens)


def _condition_sql(c: Condition, params: list[Any]) -> str:
    e = _expr(c.field)
    if c.op in ("in", "nin"):
        assert isinstance(c.value, tuple)
        values = [v for v in c.value if v is not None]
        has_null = len(values) < len(c.value)
        params.extend(values)
        members = f"{e} IN ({','.join('?' * len(values))})" if values else "0"
        if c.op == "in":
            return f"({members} OR {e} IS NULL)" if has_null else members
        # MongoDB's $nin matches a missing field unless null is among the values.
        return (
            f"({e} IS NOT NULL AND NOT {members})"
            if has_null
            else f"({e} IS NULL OR NOT {members})"
        )
    if c.value is None:
        return f"{e} IS NULL" if c.op == "eq" else f"{e} IS NOT NULL"
    params.append(c.value)
    if c.op == "ne":
        return f"({e} IS NULL OR {e} <> ?)"
    sql_op = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[c.op]
    return f"{e} {sql_op} ?"


def _where(coll: str, filter: Filter | None, text: str | None) -> tuple[str, list[Any]] | None:
    """The WHERE clause, or None when nothing can match (a text query without tokens)."""
    params: list[Any] = []
    terms = [_condition_sql(c, params) for c in parse_filter(filter)]
    if text is not None:
        tokens = query_tokens(text)
        if not tokens:
            return None
        fts = _fts_table(coll)
        terms.append(f"rid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)")
        params.append(_fts_match(tokens))
    return (" WHERE " + " AND ".join(terms) if terms else ""), params


class SqliteStore:
    """DocumentStore on one SQLite file (WAL). Create with :meth:`open`."""

    def __init__(
        self,
        path: Path,
        *,
        readers: int = 4,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 5000,
    ) -> None:
        self._path = path
        self._readers_n = max(1, readers)
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="store-sqlite-w")
        self._reader_pool = ThreadPoolExecutor(self._readers_n, thread_name_prefix="store-sqlite-r")
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._reader_conns: list[sqlite3.Connection] = []
        self._w: sqlite3.Connection | None = None
        # Writer-thread state: which doc tables exist, and each collection's text fields.
        self._tables: set[str] = set()
        self._text_fields: dict[str, tuple[str, ...]] = {}
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        readers: int = 4,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    ) -> SqliteStore:
        """Open (creating if needed) the store file.

        ``synchronous=NORMAL`` (the default, chosen, not inherited) may lose the last commits
        on power loss but never corrupts or reorders them; a read model is rebuilt from the log,
        and a projector's offset lives in the same file, so both roll back together and the
        guarded writes re-apply cleanly. Choose FULL to trade write speed for the last commits.
        """
        store = cls(Path(path), readers=readers, synchronous=synchronous)
        await store._run(store._writer_pool, store._open_writer)
        for _ in range(store._readers_n):
            conn = await store._run(store._reader_pool, store._connect_reader)
            store._reader_conns.append(conn)
            store._readers.put(conn)
        return store

    # -- plumbing ---------------------------------------------------------------------------

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed or self._w is None:
            raise RuntimeError("store is closed")
        conn = self._w
        return await self._run(self._writer_pool, lambda: fn(conn))

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("store is closed")

        def job() -> T:
            conn = self._readers.get()
            try:
                return fn(conn)
            finally:
                self._readers.put(conn)

        return await self._run(self._reader_pool, job)

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE), never implied.
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA cache_size = -32000")
        return conn

    def _open_writer(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _meta (coll TEXT PRIMARY KEY, text_fields TEXT NOT NULL)"
        )
        for name, fields in conn.execute("SELECT coll, text_fields FROM _meta"):
            self._text_fields[name] = tuple(orjson.loads(fields))
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'table' AND name LIKE 'doc\\_%' ESCAPE '\\'"
        ):
            self._tables.add(name[4:])
        self._w = conn

    def _connect_reader(self) -> sqlite3.Connection:
        conn = self._connect()
        conn.execute("PRAGMA query_only = 1")
        return conn

    @contextmanager
    def _tx(self, conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so a busy file waits here (busy_timeout)
        # instead of failing half-way through the transaction.
        tables = set(self._tables)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            self._tables = tables  # a CREATE TABLE rolled back with it
            raise
        conn.execute("COMMIT")

    def _ensure_table(self, conn: sqlite3.Connection, coll: str) -> None:
        if coll in self._tables:
            return
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_doc_table(coll)} "
            "(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)"
        )
        # An explicit INTEGER PRIMARY KEY keeps rids stable across VACUUM; FTS rows point at them.
        self._tables.add(coll)

    def _prepare(self, coll: str, id: str, doc: Mapping[str, Any]) -> _Row:
        """Validate and encode before any transaction starts, so a bad document never
        leaves half a batch behind."""
        fields = self._text_fields.get(coll)
        tokens = document_tokens(doc, fields) if fields else None
        return _Row(id, encode_body(id, doc).decode(), tokens)

    def _put(
        self,
        conn: sqlite3.Connection,
        coll: str,
        row: _Row,
        guard: tuple[str, int] | None = None,
    ) -> bool:
        sql = (
            f"INSERT INTO {_doc_table(coll)} (id, doc) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"
        )
        params: list[Any] = [row.id, row.body]
        if guard is not None:
            # The stored row, named by its table (``excluded`` would be the new one).
            g = f"json_extract({_doc_table(coll)}.doc, '$.{guard[0]}')"
            sql += f" WHERE {g} IS NULL OR {g} < ?"
            params.append(guard[1])
        written = conn.execute(sql + " RETURNING rid", params).fetchone()
        if written is None:
            return False
        if row.tokens is not None:
            rid = written[0]
            fts = _fts_table(coll)
            conn.execute(f"DELETE FROM {fts} WHERE rowid = ?", (rid,))
            if row.tokens:
                conn.execute(
                    f"INSERT INTO {fts} (rowid, tokens) VALUES (?, ?)", (rid, " ".join(row.tokens))
                )
        return True

    # -- single documents -------------------------------------------------------------------

    async def upsert(self, coll: str, id: str, doc: Mapping[str, Any]) -> None:
        check_collection(coll)
        check_id(id)

        def job(conn: sqlite3.Connection) -> None:
            row = self._prepare(coll, id, doc)
            with self._tx(conn):
                self._ensure_table(conn, coll)
                self._put(conn, coll, row)

        await self._write(job)

    async def upsert_if(
        self,
        coll: str,
        id: str,
        doc: Mapping[str, Any],
        guard_field: str,
        guard_value: int,
    ) -> bool:
        check_collection(coll)
        check_id(id)
        check_guard(guard_field, guard_value)
        full = guarded(doc, guard_field, guard_value)

        def job(conn: sqlite3.Connection) -> bool:
            row = self._prepare(coll, id, full)
            with self._tx(conn):
                self._ensure_table(conn, coll)
                return self._put(conn, coll, row, (guard_field, guard_value))

        return await self._write(job)

    async def bulk_upsert_if(
        self, coll: str, docs: Iterable[Mapping[str, Any]], guard_field: str
    ) -> int:
        check_collection(coll)
        batch = guarded_batch(docs, guard_field).values()  # checked whole, before any write
        return await self._put_many(coll, [(d, (guard_field, d[guard_field])) for d in batch])

    async def get(self, coll: str, id: str) -> Doc | None:
        check_collection(coll)
        check_id(id)

        def job(conn: sqlite3.Connection) -> Doc | None:
            try:
                row = conn.execute(
                    f"SELECT doc FROM {_doc_table(coll)} WHERE id = ?", (id,)
                ).fetchone()
            except sqlite3.OperationalError as exc:
                if _missing_table(exc):
                    return None
                raise
            return None if row is None else decode(id, row[0])

        return await self._read(job)

    async def get_many(self, coll: str, ids: Iterable[str]) -> dict[str, Doc]:
        check_collection(coll)
        wanted = list(dict.fromkeys(check_id(i) for i in ids))

        def job(conn: sqlite3.Connection) -> dict[str, Doc]:
            out: dict[str, Doc] = {}
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i : i + _IN_CHUNK]
                try:
                    rows = conn.execute(
                        f"SELECT id, doc FROM {_doc_table(coll)} "
                        f"WHERE id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                except sqlite3.OperationalError as exc:
                    if _missing_table(exc):
                        return {}
                    raise
                out.update((id, decode(id, body)) for id, body in rows)
            return out

        return await self._read(job) if wanted else {}

    async def delete(self, coll: str, id: str) -> bool:
        check_collection(coll)
        check_id(id)

        def job(conn: sqlite3.Connection) -> bool:
            if coll not in self._tables:
                return False
            with self._tx(conn):
                row = conn.execute(
                    f"DELETE FROM {_doc_table(coll)} WHERE id = ? RETURNING rid", (id,)
                ).fetchone()
                if row is not None and self._text_fields.get(coll):
                    conn.execute(f"DELETE FROM {_fts_table(coll)} WHERE rowid = ?", (row[0],))
            return row is not None

        return await self._write(job)

    async def bulk_upsert(self, coll: str, docs: Iterable[Mapping[str, Any]]) -> int:
        check_collection(coll)

        def rows() -> Iterator[_Put]:
            for d in docs:
                if not isinstance(d, Mapping):
                    raise InvalidQuery("bulk_upsert takes documents (mappings with _id)")
                yield d, None

        return await self._put_many(coll, rows())

    async def _put_many(self, coll: str, rows: Iterable[_Put]) -> int:
        """Write ``rows`` in transactions of ``_BULK_CHUNK`` (each prepared, so checked, before
        its transaction starts); returns how many were written."""

        def job(chunk: list[_Put]) -> Callable[[sqlite3.Connection], int]:
            def run(conn: sqlite3.Connection) -> int:
                prepared = [
                    (self._prepare(coll, check_id(d.get(ID_FIELD)), d), g) for d, g in chunk
                ]
                with self._tx(conn):
                    self._ensure_table(conn, coll)
                    return sum(self._put(conn, coll, row, g) for row, g in prepared)

            return run

        written = 0
        it = iter(rows)
        while chunk := list(itertools.islice(it, _BULK_CHUNK)):
            written += await self._write(job(chunk))
        return written

    # -- queries ----------------------------------------------------------------------------

    async def find(
        self,
        coll: str,
        filter: Filter | None = None,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int | None = None,
        *,
        text: str | None = None,
    ) -> list[Doc]:
        check_collection(coll)
        check_page(skip, limit)
        where = _where(coll, filter, text)
        order = ", ".join(f"{_expr(f)} {'ASC' if d == 1 else 'DESC'}" for f, d in parse_sort(sort))
        if where is None or limit == 0:
            return []
        clause, params = where
        table = _doc_table(coll)
        if limit is None:
            sql = f"SELECT id, doc FROM {table}{clause} ORDER BY {order} LIMIT -1 OFFSET ?"
        else:
            # A page picks its rids from the index first and reads only those documents:
            # sorting whole documents of every match costs ~4x more at 100k.
            sql = (
                f"SELECT id, doc FROM {table} WHERE rid IN (SELECT rid FROM {table}{clause} "
                f"ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}"
            )
            params.append(limit)
        params.append(skip)

        def job(conn: sqlite3.Connection) -> list[Doc]:
            try:
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if _missing_table(exc):
                    return []
                raise
            return [decode(i, body) for i, body in rows]

        return await self._read(job)

    async def count(
        self, coll: str, filter: Filter | None = None, *, text: str | None = None
    ) -> int:
        check_collection(coll)
        where = _where(coll, filter, text)
        if where is None:
            return 0
        clause, params = where
        sql = f"SELECT count(*) FROM {_doc_table(coll)}{clause}"

        def job(conn: sqlite3.Connection) -> int:
            try:
                return int(conn.execute(sql, params).fetchone()[0])
            except sqlite3.OperationalError as exc:
                if _missing_table(exc):
                    return 0
                raise

        return await self._read(job)

    async def grouped_count(
        self, coll: str, field: str, filter: Filter | None = None
    ) -> dict[Scalar, int]:
        check_collection(coll)
        check_field(field)
        where = _where(coll, filter, None)
        assert where is not None
        clause, params = where
        e = _expr(field)
        table = _doc_table(coll)
        sql = f"SELECT {e}, count(*) FROM {table}{clause} GROUP BY 1"

        def job(conn: sqlite3.Connection) -> dict[Scalar, int]:
            try:
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if _missing_table(exc):
                    return {}
                raise
            out: dict[Scalar, int] = {}
            for key, n in rows:
                # json_extract gives JSON true/false as 1/0; one indexed probe tells them apart
                # (grouping by json_type instead would parse every document).
                if field != ID_FIELD and type(key) is int and key in (0, 1):
                    (kind,) = conn.execute(
                        f"SELECT json_type(doc, '$.{field}') FROM {table} WHERE {e} = ? LIMIT 1",
                        (key,),
                    ).fetchone()
                    if kind in ("true", "false"):
                        key = kind == "true"
                out[key] = out.get(key, 0) + int(n)
            return out

        return await self._read(job)

    async def search(
        self, coll: str, text: str, filter: Filter | None = None, limit: int = 50
    ) -> list[Doc]:
        return await self.find(coll, filter, limit=limit, text=text)

    # -- schema -----------------------------------------------------------------------------

    async def ensure_index(self, coll: str, fields: IndexSpec) -> None:
        check_collection(coll)
        keys = parse_index(fields)
        # The id tie-breaker (in the last key's direction) lets one index scan serve the
        # whole ORDER BY of a page, as every find appends it.
        cols = [f"{_expr(f)} {'ASC' if d == 1 else 'DESC'}" for f, d in keys]
        if keys[-1][0] != ID_FIELD:
            cols.append(f"id {'ASC' if keys[-1][1] == 1 else 'DESC'}")
        sql = (
            f'CREATE INDEX IF NOT EXISTS "{index_name(keys)}_{coll}" '
            f"ON {_doc_table(coll)} ({', '.join(cols)})"
        )

        def job(conn: sqlite3.Connection) -> None:
            with self._tx(conn):
                self._ensure_table(conn, coll)
                conn.execute(sql)

        await self._write(job)

    async def ensure_text_index(self, coll: str, fields: Sequence[str]) -> None:
        check_collection(coll)
        if isinstance(fields, str) or not fields:
            raise InvalidQuery("text index needs a list of fields")
        wanted = tuple(sorted({check_field(f) for f in fields}))
        fts = _fts_table(coll)

        def job(conn: sqlite3.Connection) -> None:
            with self._tx(conn):
                self._ensure_table(conn, coll)
                # ascii tokenizer: every non-ASCII character is part of a token and our tokens
                # are already split by spaces, so FTS5 keeps each of our tokens whole.
                conn.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} "
                    "USING fts5(tokens, tokenize = 'ascii', detail = 'none')"
                )
                if self._text_fields.get(coll) == wanted:
                    return
                conn.execute(
                    "INSERT INTO _meta (coll, text_fields) VALUES (?, ?) "
                    "ON CONFLICT (coll) DO UPDATE SET text_fields = excluded.text_fields",
                    (coll, orjson.dumps(wanted).decode()),
                )
                conn.execute(f"DELETE FROM {fts}")
                rows = conn.execute(f"SELECT rid, doc FROM {_doc_table(coll)}")
                while batch := rows.fetchmany(_TOKEN_CHUNK):
                    conn.executemany(
                        f"INSERT INTO {fts} (rowid, tokens) VALUES (?, ?)",
                        [
                            (rid, " ".join(toks))
                            for rid, body in batch
                            if (toks := document_tokens(orjson.loads(body), wanted))
                        ],
                    )
            self._text_fields[coll] = wanted

        await self._write(job)

    async def drop_collection(self, coll: str) -> None:
        check_collection(coll)

        def job(conn: sqlite3.Connection) -> None:
            with self._tx(conn):
                conn.execute(f"DROP TABLE IF EXISTS {_fts_table(coll)}")
                conn.execute(f"DROP TABLE IF EXISTS {_doc_table(coll)}")
                conn.execute("DELETE FROM _meta WHERE coll = ?", (coll,))
            self._tables.discard(coll)
            self._text_fields.pop(coll, None)

        await self._write(job)

    async def list_collections(self) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT substr(name, 5) FROM sqlite_master "
                "WHERE type = 'table' AND name LIKE 'doc\\_%' ESCAPE '\\' "
                "UNION SELECT coll FROM _meta"
            ).fetchall()
            return sorted(r[0] for r in rows)

        return await self._read(job)

    # -- whole store ------------------------------------------------------------------------

    async def digest(self, coll: str) -> str:
        check_collection(coll)

        def job(conn: sqlite3.Connection) -> str:
            d = Digest()
            try:
                # ORDER BY id uses the UNIQUE index: BINARY order, i.e. UTF-8 byte order.
                for id, body in conn.execute(f"SELECT id, doc FROM {_doc_table(coll)} ORDER BY id"):
                    d.add(decode(id, body))
            except sqlite3.OperationalError as exc:
                if not _missing_table(exc):
                    raise
            return d.hexdigest()

        return await self._read(job)

    async def ping(self) -> bool:
        if self._closed:
            return False
        try:
            return bool(await self._read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1))
        except Exception:
            return False

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        w = self._w
        self._w = None
        if w is not None:
            await self._run(self._writer_pool, w.close)
        for conn in self._reader_conns:
            conn.close()
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)


if TYPE_CHECKING:
    # mypy proves the adapter satisfies the port.
    _adapter: type[DocumentStore] = SqliteStore
