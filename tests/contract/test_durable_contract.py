"""The DurableStore contract: one suite, run on the SQLite and the MongoDB (FerretDB) adapter.

Expected results come from what each test wrote (or from sorting keys by their UTF-8 bytes),
never from an adapter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.durable.mongo import CHUNKS, MongoDurableStore, durable_database
from shared.durable.port import CorruptBlob, DurableStore, Entry, InvalidEntry
from shared.durable.sqlite import SqliteDurableStore
from shared.durable.transfer import copy_store, is_empty
from tests.conftest import REPO
from tests.contract.conftest_store import STORE_BACKENDS, mongo_url


async def open_mongo() -> MongoDurableStore:
    return await MongoDurableStore.open(mongo_url(), f"t_{uuid.uuid4().hex[:16]}_durable")


async def close(store: DurableStore) -> None:
    if isinstance(store, MongoDurableStore):
        await store.drop_database()
    await store.close()


@pytest.fixture(params=STORE_BACKENDS)
async def durable(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DurableStore]:
    s: DurableStore = (
        await SqliteDurableStore.open(tmp_path / "var" / "svc" / "durable.sqlite3")
        if request.param == "sqlite"
        else await open_mongo()
    )
    try:
        yield s
    finally:
        await close(s)


async def test_put_get_and_versions(durable: DurableStore) -> None:
    assert await durable.get("vault", "p-1") is None
    assert await durable.put("vault", "p-1", {"name": "张三", "n": 1}) == 1
    assert await durable.put("vault", "p-1", {"name": "张三", "n": 2}) == 2
    entry = await durable.get("vault", "p-1")
    assert entry == Entry("vault", "p-1", 2, {"name": "张三", "n": 2})
    assert await durable.get("vault", "p-2") is None
    assert await durable.get("other", "p-1") is None  # collections are apart


async def test_values_come_back_in_their_json_form_whatever_their_shape(
    durable: DurableStore,
) -> None:
    value = {
        "at": dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC),
        "pair": (1, 2),
        "grid": [[1, 2], [3, [4]]],  # arrays in arrays: FerretDB v1 documents cannot hold these
        "a.b": {"$weird": None},  # dotted and $ keys: neither can MongoDB's
        "big": 2**62,
        "f": 0.5,
    }
    await durable.put("c", "k", value)
    entry = await durable.get("c", "k")
    assert entry is not None
    assert entry.value == {
        "at": "2026-11-26T15:00:00+00:00",
        "pair": [1, 2],
        "grid": [[1, 2], [3, [4]]],
        "a.b": {"$weird": None},
        "big": 2**62,
        "f": 0.5,
    }


async def test_compare_and_set_writes_only_at_the_expected_version(durable: DurableStore) -> None:
    assert await durable.compare_and_set("staff", "s-1", {"v": "a"}, 0) == 1
    assert await durable.compare_and_set("staff", "s-1", {"v": "b"}, 0) is None  # exists
    assert await durable.compare_and_set("staff", "s-1", {"v": "c"}, 2) is None  # not there yet
    assert (await durable.get("staff", "s-1")) == Entry("staff", "s-1", 1, {"v": "a"})
    assert await durable.compare_and_set("staff", "s-1", {"v": "d"}, 1) == 2
    assert await durable.compare_and_set("staff", "s-1", {"v": "e"}, 1) is None  # stale
    assert (await durable.get("staff", "s-1")) == Entry("staff", "s-1", 2, {"v": "d"})
    assert await durable.compare_and_set("staff", "s-9", {"v": "x"}, 1) is None  # absent


async def test_concurrent_compare_and_set_has_exactly_one_winner(durable: DurableStore) -> None:
    await durable.put("c", "k", {"n": 0})
    results = await asyncio.gather(
        *(durable.compare_and_set("c", "k", {"n": i}, 1) for i in range(1, 21))
    )
    winners = [i for i, r in enumerate(results, 1) if r is not None]
    assert len(winners) == 1 and results[winners[0] - 1] == 2
    assert (await durable.get("c", "k")) == Entry("c", "k", 2, {"n": winners[0]})
    created = await asyncio.gather(
        *(durable.compare_and_set("c", "new", {"n": i}, 0) for i in range(10))
    )
    assert sum(r is not None for r in created) == 1


async def test_concurrent_puts_each_get_their_own_version(durable: DurableStore) -> None:
    versions = await asyncio.gather(*(durable.put("c", "k", {"n": i}) for i in range(12)))
    assert sorted(versions) == list(range(1, 13))
    entry = await durable.get("c", "k")
    assert entry is not None and entry.version == 12


async def test_delete_plain_and_guarded(durable: DurableStore) -> None:
    await durable.put("c", "a", {"x": 1})
    await durable.put("c", "a", {"x": 2})
    assert await durable.delete("c", "a", expected_version=1) is False
    assert await durable.get("c", "a") is not None
    assert await durable.delete("c", "a", expected_version=2) is True
    assert await durable.get("c", "a") is None
    assert await durable.delete("c", "a") is False
    await durable.put("c", "b", {"x": 1})
    assert await durable.delete("c", "b") is True
    assert await durable.put("c", "b", {"x": 3}) == 1  # a deleted entry starts again


KEYS = ["b", "B", "a-2", "a-10", "a-1", "窗口", "卫生局", "a", "ab", "Ä", "z~"]


async def test_scan_lists_in_key_order_by_utf8_bytes_with_prefix_after_and_pages(
    durable: DurableStore,
) -> None:
    for i, k in enumerate(KEYS):
        await durable.put("idx", k, {"i": i})
    await durable.put("other", "a-3", {"i": -1})
    expected = sorted(KEYS, key=lambda k: k.encode())
    assert [e.key for e in await durable.scan("idx")] == expected
    assert [e.key for e in await durable.scan("idx", prefix="a-")] == ["a-1", "a-10", "a-2"]
    assert [e.key for e in await durable.scan("idx", prefix="a")] == [
        "a",
        "a-1",
        "a-10",
        "a-2",
        "ab",
    ]
    assert [e.key for e in await durable.scan("idx", after="a-2")] == expected[
        expected.index("a-2") + 1 :
    ]
    assert [e.key for e in await durable.scan("idx", prefix="a", after="a-1")] == [
        "a-10",
        "a-2",
        "ab",
    ]
    paged: list[str] = []
    after: str | None = None
    while page := await durable.scan("idx", after=after, limit=3):
        assert len(page) <= 3
        paged += [e.key for e in page]
        after = page[-1].key
    assert paged == expected
    assert await durable.scan("idx", prefix="nothing") == []
    assert await durable.scan("empty") == []
    first = (await durable.scan("idx", limit=1))[0]
    assert first == Entry("idx", expected[0], 1, {"i": KEYS.index(expected[0])})


async def test_collections_are_those_holding_entries(durable: DurableStore) -> None:
    assert await durable.collections() == []
    assert await is_empty(durable)
    await durable.put("vault", "k", {})
    await durable.put("staff", "k", {})
    assert await durable.collections() == ["staff", "vault"]
    await durable.delete("staff", "k")
    assert await durable.collections() == ["vault"]
    assert not await is_empty(durable)


async def test_load_keeps_versions(durable: DurableStore) -> None:
    entries = [Entry("c", f"k{i}", 10 + i, {"i": i}) for i in range(120)]
    assert await durable.load(entries) == 120
    assert await durable.get("c", "k7") == Entry("c", "k7", 17, {"i": 7})
    assert await durable.put("c", "k7", {"i": 0}) == 18
    assert len(await durable.scan("c", limit=1000)) == 120


async def test_blobs_are_content_addressed(durable: DurableStore) -> None:
    data = "证据照片".encode() * 100
    digest = await durable.put_blob(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert await durable.put_blob(data) == digest  # idempotent
    assert await durable.has_blob(digest)
    assert await durable.get_blob(digest) == data
    big = bytes(range(256)) * (10 * 1024 + 7)  # 2.5 MiB: several chunks on MongoDB
    big_digest = await durable.put_blob(big)
    assert await durable.get_blob(big_digest) == big
    empty = await durable.put_blob(b"")
    assert await durable.get_blob(empty) == b""
    assert await durable.blobs() == sorted([digest, big_digest, empty])
    assert await durable.blobs(after=sorted([digest, big_digest, empty])[0], limit=1) == [
        sorted([digest, big_digest, empty])[1]
    ]
    assert await durable.delete_blob(digest) is True
    assert await durable.delete_blob(digest) is False
    assert await durable.get_blob(digest) is None
    assert not await durable.has_blob(digest)
    assert await durable.collections() == []  # blobs are not a collection


async def test_a_blob_whose_bytes_changed_is_refused_on_read(
    durable: DurableStore, tmp_path: Path
) -> None:
    digest = await durable.put_blob(b"original evidence")
    if isinstance(durable, SqliteDurableStore):
        with sqlite3.connect(durable.path) as db:
            db.execute("UPDATE blobs SET data=? WHERE digest=?", (b"altered evidence", digest))
    else:
        assert isinstance(durable, MongoDurableStore)
        await durable._db[CHUNKS].update_one(
            {"_id": f"{digest}:000000"}, {"$set": {"data": b"altered evidence"}}
        )
    with pytest.raises(CorruptBlob, match=digest[:16]):
        await durable.get_blob(digest)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.put("Bad-Name", "k", {}),
        lambda s: s.put("_blobs", "k", {}),
        lambda s: s.put("c", "", {}),
        lambda s: s.put("c", "x\x00y", {}),
        lambda s: s.put("c", "k" * 513, {}),
        lambda s: s.put("c", "k", {"at": object()}),
        lambda s: s.put("c", "k", ["not", "an", "object"]),
        lambda s: s.compare_and_set("c", "k", {}, -1),
        lambda s: s.get_blob("not-a-digest"),
        lambda s: s.put_blob("text, not bytes"),
    ],
)
async def test_what_the_contract_does_not_cover_is_refused_without_echoing_it(
    durable: DurableStore, call: object
) -> None:
    with pytest.raises(InvalidEntry) as caught:
        await call(durable)  # type: ignore[operator]
    assert "x\x00y" not in str(caught.value) and "kkkk" not in str(caught.value)
    assert await durable.collections() == []


async def test_ping(durable: DurableStore) -> None:
    assert await durable.ping() is True


def test_sqlite_file_and_folder_are_owner_only(tmp_path: Path) -> None:
    async def go() -> None:
        s = await SqliteDurableStore.open(tmp_path / "dep" / "durable.sqlite3")
        await s.put("c", "k", {"x": 1})
        await s.close()

    asyncio.run(go())
    assert (tmp_path / "dep").stat().st_mode & 0o777 == 0o700
    for f in (tmp_path / "dep").iterdir():
        assert f.stat().st_mode & 0o777 == 0o600, f


def test_durable_database_names_can_never_be_read_model_copies() -> None:
    # Read-model copies are <prefix>_<service>_<generation>: they end in digits.
    name = durable_database("ledger", "intake")
    assert name == "ledger_intake_durable"
    assert not name[-1].isdigit()
    with pytest.raises(InvalidEntry):
        durable_database("ledger", "x" * 80)


async def _fill(store: DurableStore) -> None:
    for i in range(130):
        await store.put("vault", f"person-{i:04d}", {"name": f"姓名{i}", "i": i})
    await store.put("vault", "person-0001", {"name": "改", "i": 1})  # version 2
    await store.put("staff", "s-1", {"posts": [["2026-01", "科长"]]})
    await store.put_blob(b"evidence one")
    await store.put_blob(bytes(3 * 1024 * 1024))


@pytest.mark.mongo
async def test_equal_content_has_equal_digests_and_copies_both_ways(tmp_path: Path) -> None:
    sqlite_a = await SqliteDurableStore.open(tmp_path / "a.sqlite3")
    sqlite_b = await SqliteDurableStore.open(tmp_path / "b.sqlite3")
    mongo = await open_mongo()
    try:
        await _fill(sqlite_a)
        await _fill(mongo)
        assert await sqlite_a.digest() == await mongo.digest()
        await mongo.drop_database()
        assert await copy_store(sqlite_a, mongo) == 130 + 1 + 2
        assert await mongo.digest() == await sqlite_a.digest()
        await copy_store(mongo, sqlite_b)
        assert await sqlite_b.digest() == await sqlite_a.digest()
        assert await sqlite_b.get("vault", "person-0001") == Entry(
            "vault", "person-0001", 2, {"name": "改", "i": 1}
        )
        await sqlite_b.put("vault", "person-0002", {"changed": True})
        assert await sqlite_b.digest() != await sqlite_a.digest()
    finally:
        await sqlite_a.close()
        await sqlite_b.close()
        await close(mongo)


RACER = """
import asyncio, sys
from pathlib import Path
from shared.durable.sqlite import SqliteDurableStore

async def main() -> None:
    store = await SqliteDurableStore.open(Path(sys.argv[1]))
    made = 0
    while made < int(sys.argv[2]):
        entry = await store.get("counter", "n")
        assert entry is not None
        if await store.compare_and_set("counter", "n", {"n": entry.value["n"] + 1}, entry.version):
            made += 1
    await store.close()

asyncio.run(main())
"""


def test_sqlite_compare_and_set_is_exact_across_processes(tmp_path: Path) -> None:
    """Two processes increment one counter by compare-and-set: no increment is lost."""
    path = tmp_path / "durable.sqlite3"

    async def seed() -> None:
        s = await SqliteDurableStore.open(path)
        await s.put("counter", "n", {"n": 0})
        await s.close()

    asyncio.run(seed())
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(path), "150"], cwd=REPO)
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]

    async def read() -> Entry | None:
        s = await SqliteDurableStore.open(path)
        try:
            return await s.get("counter", "n")
        finally:
            await s.close()

    assert asyncio.run(read()) == Entry("counter", "n", 301, {"n": 300})
