"""A deployment's durable store on MongoDB (deployment) and FerretDB v1 (tests), PyMongo async.

One database per deployment (named ``<prefix>_<deployment>_durable``: never ending in digits,
so it can never be a read-model copy, ``<prefix>_<service>_<generation>``, that ``ledger
rebuild`` drops). A durable collection is a MongoDB collection of ``{_id: key, v: version,
d: canonical JSON text}``; blobs are a head document in ``_blobs`` (``{_id: digest, size,
chunks}``) written after its chunks in ``_blob_chunks`` (``{_id: "<digest>:<n>", data}``,
1 MiB each, under every server's document limit), so a blob is there only once whole.

Guarded writes: on MongoDB the version is part of the update's filter, which a single-document
write applies atomically. FerretDB v1 runs an update as read, match, write in separate steps
and pushes only exact ``{_id}`` filters down to its storage, so there the version is read by
``_id`` and compared here; as in the read store, writes to one entry from this process are
serialised (striped locks), which makes them exact in-process on both; across processes only
real MongoDB is exact. Durability is set, not inherited: majority, journaled writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from bson import Binary
from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.durable.port import (
    SCAN_PAGE,
    Backend,
    Entry,
    InvalidEntry,
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
from shared.store.mongo import durable_client

BLOBS = "_blobs"
CHUNKS = "_blob_chunks"
CHUNK_BYTES = 1024 * 1024
_LOCK_STRIPES = 64
_LOAD_CHUNK = 50  # FerretDB v1 deadlocks on a command of 100 updates (shared/store/mongo.py)
_DATABASE = re.compile(r"[A-Za-z0-9_-]{1,63}")

Doc = dict[str, Any]


def durable_database(prefix: str, deployment: str) -> str:
    name = f"{prefix}_{deployment}_durable"
    if not _DATABASE.fullmatch(name):
        raise InvalidEntry("durable database name must match [A-Za-z0-9_-]{1,63}")
    return name


class MongoDurableStore:
    """DurableStore on one MongoDB database. Create with :meth:`open`."""

    backend: Backend = "mongo"

    def __init__(self, client: AsyncMongoClient[Doc], database: str) -> None:
        self._client = client
        self.database = database
        self._db = client[database]
        self._stripes = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]
        self._ferretdb = False

    @classmethod
    async def open(
        cls, url: str, database: str, *, server_selection_timeout_ms: int = 10_000
    ) -> MongoDurableStore:
        if not _DATABASE.fullmatch(database):
            raise InvalidEntry("durable database name must match [A-Za-z0-9_-]{1,63}")
        client = durable_client(url, server_selection_timeout_ms, "supervision-ledger-durable")
        try:
            store = cls(client, database)
            info = await client.admin.command("buildInfo")
            store._ferretdb = any(str(k).startswith("ferretdb") for k in info)
        except BaseException:
            await client.close()
            raise
        return store

    def _coll(self, coll: str) -> AsyncCollection[Doc]:
        return self._db[check_collection(coll)]

    def _lock(self, coll: str, key: str) -> asyncio.Lock:
        return self._stripes[zlib.crc32(f"{coll}\0{key}".encode()) % _LOCK_STRIPES]

    async def _update_at(self, c: AsyncCollection[Doc], key: str, version: int, text: str) -> bool:
        """Move the stored entry from ``version`` to ``version + 1`` (``version`` ≥ 1)."""
        if self._ferretdb:  # the caller holds the entry's lock; see the module docstring
            stored = await c.find_one({"_id": key}, {"v": 1})
            if stored is None or stored.get("v") != version:
                return False
            await c.update_one({"_id": key}, {"$set": {"v": version + 1, "d": text}})
            return True
        result = await c.update_one(
            {"_id": key, "v": version}, {"$set": {"v": version + 1, "d": text}}
        )
        return result.matched_count == 1

    async def _insert(self, c: AsyncCollection[Doc], key: str, text: str) -> bool:
        try:
            await c.insert_one({"_id": key, "v": 1, "d": text})
        except DuplicateKeyError:
            return False
        return True

    # -- entries ------------------------------------------------------------------------------

    async def get(self, coll: str, key: str) -> Entry | None:
        c = self._coll(coll)
        check_key(key)
        doc = await c.find_one({"_id": key})
        return Entry(coll, key, int(doc["v"]), decode_value(doc["d"])) if doc else None

    async def put(self, coll: str, key: str, value: Mapping[str, Any]) -> int:
        c = self._coll(coll)
        check_key(key)
        text = encode_value(value)
        async with self._lock(coll, key):
            while True:  # another process may move the entry between our read and write
                stored = await c.find_one({"_id": key}, {"v": 1})
                if stored is None:
                    if await self._insert(c, key, text):
                        return 1
                    continue
                version = int(stored["v"])
                if await self._update_at(c, key, version, text):
                    return version + 1

    async def compare_and_set(
        self, coll: str, key: str, value: Mapping[str, Any], expected_version: int
    ) -> int | None:
        c = self._coll(coll)
        check_key(key)
        check_version(expected_version)
        text = encode_value(value)
        async with self._lock(coll, key):
            if expected_version == 0:
                return 1 if await self._insert(c, key, text) else None
            if await self._update_at(c, key, expected_version, text):
                return expected_version + 1
            return None

    async def delete(self, coll: str, key: str, expected_version: int | None = None) -> bool:
        c = self._coll(coll)
        check_key(key)
        if expected_version is not None:
            check_version(expected_version)
        async with self._lock(coll, key):
            if expected_version is not None and self._ferretdb:
                stored = await c.find_one({"_id": key}, {"v": 1})
                if stored is None or stored.get("v") != expected_version:
                    return False
                expected_version = None
            flt: Doc = {"_id": key}
            if expected_version is not None:
                flt["v"] = expected_version
            return (await c.delete_one(flt)).deleted_count == 1

    async def scan(
        self, coll: str, *, prefix: str = "", after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[Entry]:
        c = self._coll(coll)
        bounds: Doc = {}
        if prefix:
            check_key(prefix)
            bounds["$gte"] = prefix
            bounds["$regex"] = "^" + re.escape(prefix)
        if after is not None:
            check_key(after)
            bounds["$gt"] = after
        if limit <= 0:
            return []
        cursor = c.find({"_id": bounds} if bounds else {}).sort("_id", 1).limit(limit)
        return [
            Entry(coll, doc["_id"], int(doc["v"]), decode_value(doc["d"])) async for doc in cursor
        ]

    async def collections(self) -> list[str]:
        names = []
        for name in sorted(await self._db.list_collection_names()):
            if name.startswith(("_", "system.")):
                continue
            if await self._db[name].find_one({}, {"_id": 1}) is not None:
                names.append(name)
        return names

    async def load(self, entries: Iterable[Entry]) -> int:
        by_coll: dict[str, list[ReplaceOne[Doc]]] = {}
        for e in entries:
            check_collection(e.collection)
            check_key(e.key)
            by_coll.setdefault(e.collection, []).append(
                ReplaceOne(
                    {"_id": e.key}, {"v": e.version, "d": encode_value(e.value)}, upsert=True
                )
            )
        written = 0
        for coll, ops in by_coll.items():
            for i in range(0, len(ops), _LOAD_CHUNK):
                await self._db[coll].bulk_write(ops[i : i + _LOAD_CHUNK], ordered=True)
                written += len(ops[i : i + _LOAD_CHUNK])
        return written

    # -- blobs --------------------------------------------------------------------------------

    async def put_blob(self, data: bytes) -> str:
        digest = blob_digest(data)
        raw = bytes(data)
        heads = self._db[BLOBS]
        if await heads.find_one({"_id": digest}, {"_id": 1}) is not None:
            return digest
        n = max(1, -(-len(raw) // CHUNK_BYTES))
        chunks = self._db[CHUNKS]
        for i in range(n):
            part = raw[i * CHUNK_BYTES : (i + 1) * CHUNK_BYTES]
            await chunks.replace_one(
                {"_id": f"{digest}:{i:06d}"}, {"data": Binary(part)}, upsert=True
            )
        # The head last: a blob is listed only once every chunk is in.
        with contextlib.suppress(DuplicateKeyError):
            await heads.insert_one({"_id": digest, "size": len(raw), "chunks": n})
        return digest

    async def get_blob(self, digest: str) -> bytes | None:
        check_digest(digest)
        head = await self._db[BLOBS].find_one({"_id": digest})
        if head is None:
            return None
        parts = []
        for i in range(int(head["chunks"])):
            chunk = await self._db[CHUNKS].find_one({"_id": f"{digest}:{i:06d}"})
            parts.append(bytes(chunk["data"]) if chunk else b"")
        return checked_blob(digest, b"".join(parts))

    async def has_blob(self, digest: str) -> bool:
        check_digest(digest)
        return await self._db[BLOBS].find_one({"_id": digest}, {"_id": 1}) is not None

    async def delete_blob(self, digest: str) -> bool:
        check_digest(digest)
        head = await self._db[BLOBS].find_one({"_id": digest})
        if head is None:
            return False
        await self._db[BLOBS].delete_one({"_id": digest})  # unlisted first, then its chunks
        for i in range(int(head["chunks"])):
            await self._db[CHUNKS].delete_one({"_id": f"{digest}:{i:06d}"})
        return True

    async def blobs(self, *, after: str | None = None, limit: int = SCAN_PAGE) -> list[str]:
        if limit <= 0:
            return []
        flt: Doc = {"_id": {"$gt": after}} if after is not None else {}
        cursor = self._db[BLOBS].find(flt, {"_id": 1}).sort("_id", 1).limit(limit)
        return [doc["_id"] async for doc in cursor]

    # -- whole store --------------------------------------------------------------------------

    async def digest(self) -> str:
        d = StoreDigest()
        for coll in await self.collections():
            async for doc in self._db[coll].find({}).sort("_id", 1):
                d.entry(coll, doc["_id"], int(doc["v"]), doc["d"])
        async for head in self._db[BLOBS].find({}).sort("_id", 1):
            d.blob(head["_id"], int(head["size"]))
        return d.hexdigest()

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
        except Exception:
            return False
        return True

    async def drop_database(self) -> None:
        await self._client.drop_database(self.database)

    async def close(self) -> None:
        await self._client.close()
