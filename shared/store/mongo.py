"""DocumentStore on MongoDB (production) and FerretDB v1 (tests), through PyMongo's async API.

Kept to what FerretDB v1 does too: no transactions (guarded writes stand in), ``$group`` with
``$sum`` only, plain (non-partial, non-TTL) indexes, no ``$text``. Search tokens live in each
document's ``_tokens`` array (multikey index) and are matched with ``$all``. FerretDB v1 pushes
only ``{_id: …}`` filters down to its SQLite backend and scans otherwise: fine for tests;
production MongoDB uses the indexes.

FerretDB v1 also runs every update as read, match in Go, then write by ``_id``, in separate
steps (``internal/handler/msg_update.go``), so two conditional writes to one document can
interleave and the older win. MongoDB applies each single-document write atomically. Writes to
one document from this process are therefore serialised here (striped locks), which makes
guarded writes exact in-process on both; across processes only real MongoDB is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.store.json_form import Digest, guarded, guarded_batch, normalise
from shared.store.port import (
    TOKENS_FIELD,
    Doc,
    DocumentStore,
    Filter,
    IndexSpec,
    InvalidQuery,
    Scalar,
    SortSpec,
)
from shared.store.query import (
    ID_FIELD,
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

META = "_ledger_meta"
"""Holds text-field declarations; its leading underscore keeps it apart from collection names,
which must start with a letter."""

# What MongoDB and FerretDB v1 both accept as a database name.
_DATABASE = re.compile(r"[A-Za-z0-9_-]{1,63}")
_BULK_CHUNK = 500
_UPDATE_BATCH = 50
"""Updates per command. FerretDB v1.24 keeps one pooled SQLite connection open per update of
an existing document until the whole command ends; its pool holds 100, so a command of 100
such updates deadlocks the server (measured: 99 pass, 100 hang). MongoDB does not care."""
_LOCK_STRIPES = 64
_IN_CHUNK = 500  # ids per $in list
_NO_TOKENS = {"_id": {"$exists": False}}
"""A filter matching nothing, for a text query without any token."""


def _mongo_filter(filter: Filter | None, text: str | None) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for c in parse_filter(filter):
        value = list(c.value) if isinstance(c.value, tuple) else c.value
        out.setdefault(c.field, {})[f"${c.op}"] = value
    query: dict[str, Any] = dict(out)
    if text is not None:
        tokens = query_tokens(text)
        if not tokens:
            return dict(_NO_TOKENS)
        query[TOKENS_FIELD] = {"$all": tokens}
    return query


def durable_client(
    url: str, server_selection_timeout_ms: int, appname: str
) -> AsyncMongoClient[Doc]:
    """A client whose writes are majority-acknowledged and journaled, retried once on a
    failover: durability set here, never inherited from the URL (DESIGN principle 10)."""
    return AsyncMongoClient(
        url,
        w="majority",
        journal=True,
        retryWrites=True,
        retryReads=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        appname=appname,
    )


class MongoStore:
    """DocumentStore on one MongoDB database. Create with :meth:`open`."""

    def __init__(self, client: AsyncMongoClient[Doc], database: str) -> None:
        self._client = client
        self._db = client[database]
        self._text_fields: dict[str, tuple[str, ...]] = {}
        self._stripes = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]
        # FerretDB v1 pushes only an exact {_id} filter down to its storage: any other filter
        # scans the collection. Its conditional writes are not atomic anyway, so there the
        # guard is read by _id and compared here, under the per-document lock.
        self._ferretdb = False

    @classmethod
    async def open(
        cls,
        url: str,
        database: str | None = None,
        *,
        server_selection_timeout_ms: int = 10_000,
    ) -> MongoStore:
        """Connect to ``url``; the database is ``database``, else the URL's, else ``ledger``.

        Durability is set here, not inherited (DESIGN principle 10): majority, journaled
        writes, retried once on a failover (a retried guarded write that reports "not
        written" is still correct: it had applied).
        """
        client = durable_client(url, server_selection_timeout_ms, "supervision-ledger")
        try:
            name = database or client.get_default_database(default="ledger").name
            if not _DATABASE.fullmatch(name):
                raise InvalidQuery("database name must match [A-Za-z0-9_-]{1,63}")
            store = cls(client, name)
            info = await client.admin.command("buildInfo")
            store._ferretdb = any(str(k).startswith("ferretdb") for k in info)
            async for meta in store._db[META].find({}):
                store._text_fields[meta[ID_FIELD]] = tuple(meta["text_fields"])
        except BaseException:
            await client.close()
            raise
        return store

    def _coll(self, coll: str) -> AsyncCollection[Doc]:
        return self._db[check_collection(coll)]

    @staticmethod
    def _stripe(coll: str, id: str) -> int:
        # crc32, not hash(): stable and cheap; stripes bound memory for any number of ids.
        return zlib.crc32(f"{coll}\0{id}".encode()) % _LOCK_STRIPES

    def _lock(self, coll: str, id: str) -> asyncio.Lock:
        return self._stripes[self._stripe(coll, id)]

    @contextlib.asynccontextmanager
    async def _locks(self, coll: str, ids: Iterable[str]) -> AsyncIterator[None]:
        """The stripe locks of many documents, taken in one global order (no deadlock with
        another batch or a single write)."""
        stripes = sorted({self._stripe(coll, id) for id in ids})
        async with contextlib.AsyncExitStack() as stack:
            for i in stripes:
                await stack.enter_async_context(self._stripes[i])
            yield

    def _stored(self, coll: str, id: str, doc: Mapping[str, Any]) -> Doc:
        """The replacement document: JSON round-tripped as in SQLite, so both adapters hold
        equal values, and without ``_id`` (the filter supplies it). FerretDB v1 skips a
        replacement that carries ``_id`` and equals the stored document numerically (3 for
        3.0), keeping the old type; without ``_id`` it writes."""
        full = normalise(id, doc)
        del full[ID_FIELD]
        fields = self._text_fields.get(coll)
        if fields:
            full[TOKENS_FIELD] = document_tokens(full, fields)
        return full

    # -- single documents -------------------------------------------------------------------

    async def upsert(self, coll: str, id: str, doc: Mapping[str, Any]) -> None:
        c = self._coll(coll)
        check_id(id)
        full = self._stored(coll, id, doc)
        async with self._lock(coll, id):
            try:
                await c.replace_one({ID_FIELD: id}, full, upsert=True)
            except DuplicateKeyError:
                # Another process inserted it between FerretDB's read and insert (MongoDB
                # can report the same race): it exists now, so a plain replace lands.
                await c.replace_one({ID_FIELD: id}, full, upsert=True)

    async def upsert_if(
        self,
        coll: str,
        id: str,
        doc: Mapping[str, Any],
        guard_field: str,
        guard_value: int,
    ) -> bool:
        c = self._coll(coll)
        check_id(id)
        check_guard(guard_field, guard_value)
        full = self._stored(coll, id, guarded(doc, guard_field, guard_value))
        # Matches only an older (or guard-less) stored document; if none matches, the upsert
        # tries to insert and the unique _id refuses it when a newer one exists. No transaction
        # needed, and none exists in FerretDB v1.
        async with self._lock(coll, id):
            if self._ferretdb:
                stored = await c.find_one({ID_FIELD: id}, {guard_field: 1})
                if stored is not None:
                    current = stored.get(guard_field)
                    if isinstance(current, int) and current >= guard_value:
                        return False
                await c.replace_one({ID_FIELD: id}, full, upsert=True)
                return True
            try:
                await c.replace_one(
                    {
                        ID_FIELD: id,
                        "$or": [{guard_field: {"$lt": guard_value}}, {guard_field: None}],
                    },
                    full,
                    upsert=True,
                )
            except DuplicateKeyError:
                return False
        return True

    async def bulk_upsert_if(
        self, coll: str, docs: Iterable[Mapping[str, Any]], guard_field: str
    ) -> int:
        c = self._coll(coll)
        stored = {
            id: self._stored(coll, id, d) for id, d in guarded_batch(docs, guard_field).items()
        }
        ids = list(stored)
        written = 0
        for i in range(0, len(ids), _BULK_CHUNK):
            chunk = {id: stored[id] for id in ids[i : i + _BULK_CHUNK]}
            async with self._locks(coll, chunk):
                if self._ferretdb:
                    written += await self._guarded_chunk_ferretdb(c, chunk, guard_field)
                else:
                    written += await self._guarded_chunk(c, chunk, guard_field)
        return written

    async def _guarded_chunk(
        self, c: AsyncCollection[Doc], chunk: dict[str, Doc], guard_field: str
    ) -> int:
        """MongoDB: one unordered bulk of the same conditional replacements as ``upsert_if``;
        a duplicate-key error is a document that a newer write already holds."""
        ops = [
            ReplaceOne(
                {
                    ID_FIELD: id,
                    "$or": [{guard_field: {"$lt": body[guard_field]}}, {guard_field: None}],
                },
                body,
                upsert=True,
            )
            for id, body in chunk.items()
        ]
        try:
            result = await c.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            details = exc.details
            if details.get("writeConcernErrors") or any(
                e.get("code") != 11000 for e in details.get("writeErrors", [])
            ):
                raise
            return int(details.get("nMatched", 0)) + int(details.get("nUpserted", 0))
        return result.matched_count + result.upserted_count

    async def _guarded_chunk_ferretdb(
        self, c: AsyncCollection[Doc], chunk: dict[str, Doc], guard_field: str
    ) -> int:
        """FerretDB v1: insert what is new in one command (fast), then read the guards of the
        documents that exist and replace the older ones by ``_id`` (a conditional filter would
        make FerretDB scan the collection once per document). Exact under the stripe locks,
        as ``upsert_if`` is here."""
        existing = await self._insert_new(c, chunk)
        written = len(chunk) - len(existing)
        if not existing:
            return written
        stored = await self._by_ids(c, existing, {guard_field: 1})
        guards = {id: d.get(guard_field) for id, d in stored.items()}
        older = {
            id: chunk[id]
            for id in existing
            if not (isinstance(guards.get(id), int) and guards[id] >= chunk[id][guard_field])
        }
        await self._replace(c, older)
        return written + len(older)

    async def _replace(self, c: AsyncCollection[Doc], docs: dict[str, Doc]) -> None:
        """Replace documents by ``_id``, ``_UPDATE_BATCH`` to a command."""
        ids = list(docs)
        for i in range(0, len(ids), _UPDATE_BATCH):
            await c.bulk_write(
                [
                    ReplaceOne({ID_FIELD: id}, docs[id], upsert=True)
                    for id in ids[i : i + _UPDATE_BATCH]
                ],
                ordered=True,
            )

    async def _insert_new(self, c: AsyncCollection[Doc], chunk: dict[str, Doc]) -> list[str]:
        """Insert ``chunk``'s documents in one unordered command; returns the ids that exist
        already (refused as duplicates, left as they were)."""
        try:
            await c.insert_many(
                [{ID_FIELD: id, **body} for id, body in chunk.items()], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(e.get("code") != 11000 for e in errors):
                raise
            ids = list(chunk)
            return [ids[e["index"]] for e in errors]
        return []

    async def get(self, coll: str, id: str) -> Doc | None:
        c = self._coll(coll)
        check_id(id)
        return await c.find_one({ID_FIELD: id}, {TOKENS_FIELD: 0})

    async def get_many(self, coll: str, ids: Iterable[str]) -> dict[str, Doc]:
        wanted = list(dict.fromkeys(check_id(i) for i in ids))
        return await self._by_ids(self._coll(coll), wanted, {TOKENS_FIELD: 0})

    async def _by_ids(
        self, c: AsyncCollection[Doc], ids: Sequence[str], projection: Mapping[str, int]
    ) -> dict[str, Doc]:
        """The stored documents among ``ids`` (``$in`` lists of ``_IN_CHUNK``), by ``_id``."""
        out: dict[str, Doc] = {}
        for i in range(0, len(ids), _IN_CHUNK):
            async for d in c.find({ID_FIELD: {"$in": list(ids[i : i + _IN_CHUNK])}}, projection):
                out[d[ID_FIELD]] = d
        return out

    async def delete(self, coll: str, id: str) -> bool:
        c = self._coll(coll)
        check_id(id)
        async with self._lock(coll, id):
            result = await c.delete_one({ID_FIELD: id})
        return result.deleted_count == 1

    async def bulk_upsert(self, coll: str, docs: Iterable[Mapping[str, Any]]) -> int:
        c = self._coll(coll)
        written = 0
        replacing = False
        chunk: dict[str, Doc] = {}
        for d in docs:
            if not isinstance(d, Mapping):
                raise InvalidQuery("bulk_upsert takes documents (mappings with _id)")
            id = check_id(d.get(ID_FIELD))
            # Keyed by id: a later version of a document in the same chunk replaces the
            # earlier, so the outcome never depends on the server's order within a batch.
            chunk.pop(id, None)
            chunk[id] = self._stored(coll, id, d)
            if len(chunk) >= _BULK_CHUNK:
                replacing = await self._bulk_chunk(c, chunk, replacing)
                written += len(chunk)
                chunk = {}
        if chunk:
            await self._bulk_chunk(c, chunk, replacing)
            written += len(chunk)
        return written

    async def _bulk_chunk(
        self, c: AsyncCollection[Doc], chunk: dict[str, Doc], replacing: bool
    ) -> bool:
        """Write one chunk; returns whether later chunks should go straight to replacing.

        Inserts first: a rebuild writes into an empty collection, and FerretDB v1 inserts
        ~100x faster than it upserts (its ``_id`` lookups miss its own index, so each upsert
        scans the collection). Documents that already exist come back as duplicate-key errors
        and are replaced.
        """
        existing = await self._insert_new(c, chunk) if not replacing else list(chunk)
        if not existing:
            return False
        await self._replace(c, {id: chunk[id] for id in existing})
        # Mostly existing documents: an update, not a rebuild; stop trying inserts first.
        return 2 * len(existing) > len(chunk)

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
        c = self._coll(coll)
        check_page(skip, limit)
        query = _mongo_filter(filter, text)
        order = parse_sort(sort)
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        cursor = c.find(query, {TOKENS_FIELD: 0}, sort=order, skip=skip, limit=limit or 0)
        return await cursor.to_list()

    async def count(
        self, coll: str, filter: Filter | None = None, *, text: str | None = None
    ) -> int:
        c = self._coll(coll)
        return await c.count_documents(_mongo_filter(filter, text))

    async def grouped_count(
        self, coll: str, field: str, filter: Filter | None = None
    ) -> dict[Scalar, int]:
        c = self._coll(coll)
        check_field(field)
        pipeline: list[dict[str, Any]] = [
            {"$match": _mongo_filter(filter, None)},
            # $sum is the one accumulator FerretDB v1 has (besides $count).
            {"$group": {ID_FIELD: f"${field}", "n": {"$sum": 1}}},
        ]
        out: dict[Scalar, int] = {}
        async for row in await c.aggregate(pipeline):
            out[row[ID_FIELD]] = out.get(row[ID_FIELD], 0) + int(row["n"])
        return out

    async def search(
        self, coll: str, text: str, filter: Filter | None = None, limit: int = 50
    ) -> list[Doc]:
        return await self.find(coll, filter, limit=limit, text=text)

    # -- schema -----------------------------------------------------------------------------

    async def ensure_index(self, coll: str, fields: IndexSpec) -> None:
        c = self._coll(coll)
        keys = parse_index(fields)
        # _id last, as every find sorts by it to break ties (the SQLite adapter does the same).
        if keys[-1][0] != ID_FIELD:
            keys = [*keys, (ID_FIELD, keys[-1][1])]
        await c.create_index(keys, name=index_name(keys))

    async def ensure_text_index(self, coll: str, fields: Sequence[str]) -> None:
        c = self._coll(coll)
        if isinstance(fields, str) or not fields:
            raise InvalidQuery("text index needs a list of fields")
        wanted = tuple(sorted({check_field(f) for f in fields}))
        await c.create_index([(TOKENS_FIELD, 1)], name="ix_tokens")
        if self._text_fields.get(coll) == wanted:
            return
        await self._db[META].replace_one(
            {ID_FIELD: coll}, {ID_FIELD: coll, "text_fields": list(wanted)}, upsert=True
        )
        self._text_fields[coll] = wanted
        # Re-token what is already there; new writes carry tokens from now on.
        ops: list[UpdateOne] = []
        async for d in c.find({}, {TOKENS_FIELD: 0}):
            toks = document_tokens(d, wanted)
            ops.append(UpdateOne({ID_FIELD: d[ID_FIELD]}, {"$set": {TOKENS_FIELD: toks}}))
            if len(ops) >= _UPDATE_BATCH:
                await c.bulk_write(ops, ordered=False)
                ops = []
        if ops:
            await c.bulk_write(ops, ordered=False)

    async def drop_collection(self, coll: str) -> None:
        await self._coll(coll).drop()
        await self._db[META].delete_one({ID_FIELD: coll})
        self._text_fields.pop(coll, None)

    async def list_collections(self) -> list[str]:
        names = set(await self._db.list_collection_names())
        names.discard(META)
        return sorted(names)

    # -- whole store ------------------------------------------------------------------------

    async def digest(self, coll: str) -> str:
        c = self._coll(coll)
        d = Digest()
        async for doc in c.find({}, {TOKENS_FIELD: 0}, sort=[(ID_FIELD, 1)], batch_size=1000):
            d.add(doc)
        return d.hexdigest()

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self._client.admin.command("ping"), timeout=5)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self._client.close()

    async def drop_database(self) -> None:
        """Remove this store's whole database (tests and `ledger` rebuilds)."""
        await self._client.drop_database(self._db.name)


if TYPE_CHECKING:
    # mypy proves the adapter satisfies the port.
    _adapter: type[DocumentStore] = MongoStore
