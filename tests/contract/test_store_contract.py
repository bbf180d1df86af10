"""The DocumentStore contract: one suite, run on the SQLite and the MongoDB (FerretDB) adapter.

Expected results come from the data written in each test or from ``_oracle``, a plain-Python
reading of the contract's filter semantics (see shared/store/port.py), never from an adapter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import pytest

from shared.store import ASC, DESC, DocumentStore, InvalidQuery, open_store
from shared.store.mongo import MongoStore
from shared.store.sqlite import SqliteStore
from tests.contract.conftest_store import both_stores, mongo_url, store

__all__ = ["both_stores", "store"]  # fixtures, re-exported so pytest finds them here

UNITS = ["城管局", "卫生局", "교통", "Housing", "water"]
STATUSES = ["open", "assigned", "replied", "closed"]


def _case(i: int) -> dict[str, Any]:
    rnd = random.Random(i)
    doc: dict[str, Any] = {
        "_id": f"case-{i:03d}",
        "unit": UNITS[i % len(UNITS)],
        "status": STATUSES[(i // 2) % len(STATUSES)],
        "n": rnd.randrange(6),  # few values: many ties, which the _id tie-break must order
        "due": f"2026-11-{1 + i % 28:02d}",
        "loc": {"district": ["东城", "西城", "朝阳"][i % 3], "floor": i % 4},
        "urgent": i % 3 == 0,
        "title": f"第{i}号",
    }
    if i % 5 == 0:
        doc["late_days"] = i % 7  # missing from most documents on purpose
    if i % 7 == 0:
        doc["reviewer"] = None  # present but null
    elif i % 7 == 1:
        doc["reviewer"] = f"staff-{i % 3}"
    return doc


CASES = [_case(i) for i in range(60)]
_MISSING = object()


def _get(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _oracle(doc: dict[str, Any], flt: dict[str, Any]) -> bool:
    for field, spec in flt.items():
        ops = spec if isinstance(spec, dict) else {"$eq": spec}
        raw = _get(doc, field)
        x = None if raw is _MISSING else raw
        for op, v in ops.items():
            ok = {
                "$eq": lambda x=x, v=v: x == v,
                "$ne": lambda x=x, v=v: x != v,
                "$in": lambda x=x, v=v: x in v,
                "$nin": lambda x=x, v=v: x not in v,
                "$gt": lambda x=x, v=v: x is not None and x > v,
                "$gte": lambda x=x, v=v: x is not None and x >= v,
                "$lt": lambda x=x, v=v: x is not None and x < v,
                "$lte": lambda x=x, v=v: x is not None and x <= v,
            }[op]()
            if not ok:
                return False
    return True


def _ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["_id"] for d in docs]


async def _load(store: DocumentStore, coll: str = "cases") -> None:
    assert await store.bulk_upsert(coll, CASES) == len(CASES)


# -- single documents --------------------------------------------------------------------------


async def test_upsert_get_delete(store: DocumentStore) -> None:
    assert await store.get("cases", "x") is None
    await store.upsert("cases", "x", {"a": 1, "nested": {"b": [1, "二", None]}})
    got = await store.get("cases", "x")
    assert got == {"_id": "x", "a": 1, "nested": {"b": [1, "二", None]}}
    assert next(iter(got)) == "_id"

    # Upsert replaces the whole document; it does not merge.
    await store.upsert("cases", "x", {"_id": "x", "c": 2.5})
    assert await store.get("cases", "x") == {"_id": "x", "c": 2.5}

    assert await store.delete("cases", "x") is True
    assert await store.delete("cases", "x") is False
    assert await store.get("cases", "x") is None


async def test_values_are_stored_as_json(store: DocumentStore) -> None:
    when = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    await store.upsert("cases", "j", {"t": (1, 2), "at": when, "f": 2.0, "big": 2**40})
    got = await store.get("cases", "j")
    assert got == {
        "_id": "j",
        "t": [1, 2],
        "at": "2026-11-26T09:30:00+08:00",
        "f": 2.0,
        "big": 2**40,
    }
    assert isinstance(got["f"], float) and isinstance(got["big"], int)
    # A rewrite that changes only a number's type is a change (FerretDB v1 once kept 2.0).
    await store.upsert("cases", "j", {"t": [1, 2], "at": got["at"], "f": 2, "big": 2**40})
    assert type((await store.get("cases", "j"))["f"]) is int  # type: ignore[index]
    assert await store.upsert_if("cases", "j", {"f": 2.0}, "pos", 1) is True
    assert type((await store.get("cases", "j"))["f"]) is float  # type: ignore[index]


async def test_rejects_what_the_contract_does_not_cover(store: DocumentStore) -> None:
    with pytest.raises(InvalidQuery):
        await store.upsert("cases", "a", {"_id": "b"})
    with pytest.raises(InvalidQuery):
        await store.upsert("cases", "a", {"_tokens": ["x"]})
    with pytest.raises(InvalidQuery):
        await store.upsert("Cases", "a", {})
    with pytest.raises(InvalidQuery):
        await store.upsert("cases", "", {})
    with pytest.raises(InvalidQuery):
        await store.upsert("cases", "a", {"s": {1, 2}})
    with pytest.raises(InvalidQuery):
        await store.upsert("cases", "a", {"m": {"x": [1, [2]]}})  # FerretDB v1 cannot hold it
    await store.upsert("cases", "a", {"m": {"x": [1, {"y": [2]}]}})  # but this is fine
    with pytest.raises(InvalidQuery):
        await store.find("cases", {"title": {"$regex": "^第"}})
    with pytest.raises(InvalidQuery):
        await store.find("cases", {"bad-field": 1})
    with pytest.raises(InvalidQuery):
        await store.find("cases", {"a": {"$gt": None}})
    with pytest.raises(InvalidQuery):
        await store.find("cases", {"a": {"$in": "ab"}})
    with pytest.raises(InvalidQuery):
        await store.find("cases", {"a": {"b": 1}})
    with pytest.raises(InvalidQuery):
        await store.find("cases", sort=[("n", 0)])  # type: ignore[list-item]
    with pytest.raises(InvalidQuery):
        await store.find("cases", skip=-1)


async def test_bulk_upsert_inserts_and_replaces(store: DocumentStore) -> None:
    await store.upsert("cases", "b", {"v": "old", "gone": True})
    docs = [{"_id": f"{k}", "v": i} for i, k in enumerate("abcab")]
    assert await store.bulk_upsert("cases", docs) in (3, 5)  # duplicates may be folded
    # The last version of each document wins; a replaced document loses its old fields.
    assert await store.find("cases") == [
        {"_id": "a", "v": 3},
        {"_id": "b", "v": 4},
        {"_id": "c", "v": 2},
    ]
    # More than one chunk (500 on MongoDB, 2000 on SQLite), part new, part existing.
    many = [{"_id": f"m{i:05d}", "v": i} for i in range(700)]
    assert await store.bulk_upsert("cases", many[:300]) == 300
    assert await store.bulk_upsert("cases", [{**d, "v": -1} for d in many]) == 700
    assert await store.count("cases", {"v": -1}) == 700
    assert await store.count("cases") == 703
    with pytest.raises(InvalidQuery):
        await store.bulk_upsert("cases", [{"v": 1}])  # no _id


# -- guarded writes ----------------------------------------------------------------------------


async def test_upsert_if_applies_each_position_once(store: DocumentStore) -> None:
    assert await store.upsert_if("cases", "c1", {"state": "a"}, "pos", 5) is True
    assert await store.get("cases", "c1") == {"_id": "c1", "state": "a", "pos": 5}

    # A redelivery (same position) and an older one are refused and change nothing.
    assert await store.upsert_if("cases", "c1", {"state": "again"}, "pos", 5) is False
    assert await store.upsert_if("cases", "c1", {"state": "old"}, "pos", 3) is False
    assert await store.get("cases", "c1") == {"_id": "c1", "state": "a", "pos": 5}

    assert await store.upsert_if("cases", "c1", {"state": "b", "pos": 9}, "pos", 9) is True
    assert await store.get("cases", "c1") == {"_id": "c1", "state": "b", "pos": 9}

    # The guard is per document.
    assert await store.upsert_if("cases", "c2", {"state": "x"}, "pos", 1) is True


async def test_upsert_if_treats_an_unguarded_document_as_older(store: DocumentStore) -> None:
    await store.upsert("cases", "c1", {"state": "rebuilt"})
    assert await store.upsert_if("cases", "c1", {"state": "a"}, "pos", 0) is True
    await store.upsert("cases", "c2", {"state": "rebuilt", "pos": None})
    assert await store.upsert_if("cases", "c2", {"state": "a"}, "pos", 1) is True
    assert (await store.get("cases", "c2")) == {"_id": "c2", "state": "a", "pos": 1}


async def test_upsert_if_rejects_a_conflicting_or_bad_guard(store: DocumentStore) -> None:
    with pytest.raises(InvalidQuery):
        await store.upsert_if("cases", "c1", {"pos": 4}, "pos", 5)
    with pytest.raises(InvalidQuery):
        await store.upsert_if("cases", "c1", {}, "a.b", 5)
    with pytest.raises(InvalidQuery):
        await store.upsert_if("cases", "c1", {}, "pos", True)


async def test_concurrent_guarded_writes_keep_the_newest(store: DocumentStore) -> None:
    positions = list(range(40))
    random.Random(7).shuffle(positions)

    async def apply(p: int) -> bool:
        return await store.upsert_if("cases", "hot", {"v": f"at-{p}"}, "pos", p)

    results = await asyncio.gather(*(apply(p) for p in positions))
    assert any(results)
    assert await store.get("cases", "hot") == {"_id": "hot", "v": "at-39", "pos": 39}
    # Every position after the newest already applied was refused.
    assert await store.upsert_if("cases", "hot", {"v": "late"}, "pos", 39) is False


async def test_bulk_upsert_if_writes_only_what_is_newer(store: DocumentStore) -> None:
    await store.ensure_text_index("cases", ["title"])
    await store.upsert_if("cases", "a", {"title": "窗口", "v": "a5"}, "pos", 5)
    await store.upsert_if("cases", "b", {"title": "窗口", "v": "b1"}, "pos", 1)
    await store.upsert("cases", "c", {"title": "窗口", "v": "unguarded"})
    batch = [
        {"_id": "a", "title": "卫生", "v": "a5-again", "pos": 5},  # a redelivery: refused
        {"_id": "b", "title": "卫生", "v": "b3", "pos": 3},
        {"_id": "c", "title": "卫生", "v": "c0", "pos": 0},
        {"_id": "d", "title": "卫生", "v": "d2", "pos": 2},
        {"_id": "e", "title": "卫生", "v": "e4", "pos": 4},
        {"_id": "e", "title": "卫生", "v": "e2", "pos": 2},  # older than the one before it
        {"_id": "f", "title": "卫生", "v": "f1", "pos": 1},
        {"_id": "f", "title": "卫生", "v": "f6", "pos": 6},
    ]
    assert await store.bulk_upsert_if("cases", batch, "pos") == 5
    got = {d["_id"]: (d["v"], d["pos"]) for d in await store.find("cases")}
    assert got == {
        "a": ("a5", 5),
        "b": ("b3", 3),
        "c": ("c0", 0),
        "d": ("d2", 2),
        "e": ("e4", 4),
        "f": ("f6", 6),
    }
    # Search follows what was written, not what was refused.
    assert [d["_id"] for d in await store.search("cases", "窗口")] == ["a"]
    assert [d["_id"] for d in await store.search("cases", "卫生")] == list("bcdef")
    # Again, whole: everything is refused.
    assert await store.bulk_upsert_if("cases", batch, "pos") == 0
    assert await store.bulk_upsert_if("cases", [], "pos") == 0


async def test_bulk_upsert_if_over_many_chunks(store: DocumentStore) -> None:
    many = [{"_id": f"m{i:05d}", "v": "old", "pos": 10} for i in range(1200)]
    assert await store.bulk_upsert_if("cases", many[::2], "pos") == 600
    mixed = [{**d, "v": "new", "pos": 10 + (i % 3) - 1} for i, d in enumerate(many)]
    written = await store.bulk_upsert_if("cases", mixed, "pos")
    # New ids are written whatever their guard; existing ones only where pos rose to 11.
    want = {d["_id"] for i, d in enumerate(mixed) if i % 2 == 1 or d["pos"] > 10}
    assert written == len(want)
    assert {d["_id"] for d in await store.find("cases", {"v": "new"})} == want
    assert await store.count("cases") == 1200


async def test_bulk_upsert_if_checks_every_document_before_writing(store: DocumentStore) -> None:
    good = {"_id": "g", "v": 1, "pos": 1}
    for bad in (
        {"v": 1, "pos": 1},  # no _id
        {"_id": "x", "v": 1},  # no guard
        {"_id": "x", "v": 1, "pos": True},
        {"_id": "x", "v": 1, "pos": "3"},
        {"_id": "x", "m": [[1]], "pos": 1},
        {"_id": "x", "_tokens": ["t"], "pos": 1},
    ):
        with pytest.raises(InvalidQuery):
            await store.bulk_upsert_if("cases", [good, bad], "pos")
    with pytest.raises(InvalidQuery):
        await store.bulk_upsert_if("cases", [good], "a.b")
    assert await store.count("cases") == 0
    # Brackets inside strings are only text.
    await store.bulk_upsert_if(
        "cases", [{"_id": "s", "t": "[[x],[y]]", "l": ["[["], "pos": 1}], "pos"
    )
    assert (await store.get("cases", "s")) == {"_id": "s", "t": "[[x],[y]]", "l": ["[["], "pos": 1}


async def test_bulk_and_single_guarded_writes_keep_the_newest(store: DocumentStore) -> None:
    positions = list(range(30))
    random.Random(11).shuffle(positions)

    async def single(p: int) -> None:
        await store.upsert_if("cases", "hot", {"v": f"at-{p}"}, "pos", p)

    async def bulk(p: int) -> None:
        docs = [{"_id": "hot", "v": f"at-{p}", "pos": p}, {"_id": f"o{p}", "v": "x", "pos": p}]
        await store.bulk_upsert_if("cases", docs, "pos")

    await asyncio.gather(*((single if p % 2 else bulk)(p) for p in positions))
    assert await store.get("cases", "hot") == {"_id": "hot", "v": "at-29", "pos": 29}


async def test_get_many(store: DocumentStore) -> None:
    await store.bulk_upsert("cases", [{"_id": f"k{i:04d}", "v": i} for i in range(600)])
    ids = [f"k{i:04d}" for i in range(0, 1200, 2)]  # half of them absent, over one chunk
    got = await store.get_many("cases", [*ids, "k0000"])
    assert got == {f"k{i:04d}": {"_id": f"k{i:04d}", "v": i} for i in range(0, 600, 2)}
    assert await store.get_many("cases", []) == {}
    assert await store.get_many("nothing_here", ["k0000"]) == {}
    with pytest.raises(InvalidQuery):
        await store.get_many("cases", ["k0001", ""])


# -- queries -----------------------------------------------------------------------------------

FILTERS: list[dict[str, Any]] = [
    {},
    {"unit": "卫生局"},
    {"unit": "卫生局", "status": "open"},
    {"status": {"$in": ["open", "replied"]}},
    {"status": {"$nin": ["open", "replied"]}},
    {"status": {"$ne": "closed"}},
    {"n": {"$gt": 2}},
    {"n": {"$gte": 2, "$lt": 4}},
    {"n": {"$lte": 1}, "urgent": True},
    {"urgent": False},
    {"due": {"$gte": "2026-11-10", "$lt": "2026-11-20"}},
    {"loc.district": "朝阳"},
    {"loc.floor": {"$in": [0, 3]}, "loc.district": {"$ne": "东城"}},
    {"late_days": None},  # missing or null
    {"late_days": {"$ne": None}},
    {"late_days": {"$gte": 3}},
    {"late_days": {"$lt": 3}},  # a missing field never satisfies a range
    {"late_days": {"$ne": 0}},  # ...but does satisfy $ne
    {"late_days": {"$in": [None, 5]}},
    {"late_days": {"$nin": [None, 5]}},
    {"late_days": {"$nin": [5]}},
    {"reviewer": None},
    {"reviewer": {"$ne": None}},
    {"_id": {"$in": ["case-001", "case-050", "nope"]}},
    {"_id": {"$gte": "case-055"}},
    {"status": {"$in": []}},
    {"title": "第7号"},
]


@pytest.mark.parametrize("flt", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
async def test_find_and_count_match_the_contract(store: DocumentStore, flt: dict[str, Any]) -> None:
    await _load(store)
    expected = sorted(d["_id"] for d in CASES if _oracle(d, flt))
    assert _ids(await store.find("cases", flt)) == expected
    assert await store.count("cases", flt) == len(expected)


async def test_every_filter_selects_something_and_not_everything() -> None:
    # Guards the table above: a filter matching all or none would prove little.
    sizes = [
        sum(_oracle(d, f) for d in CASES) for f in FILTERS if f and f != {"status": {"$in": []}}
    ]
    assert all(0 < s < len(CASES) for s in sizes)


async def test_find_returns_whole_documents(store: DocumentStore) -> None:
    await _load(store)
    got = await store.find("cases", {"_id": "case-010"})
    assert got == [CASES[10]]


@pytest.mark.parametrize(
    "sort",
    [
        [("n", DESC)],
        [("n", ASC)],
        [("unit", ASC), ("due", DESC)],
        [("loc.district", DESC), ("n", ASC)],
        [("late_days", ASC)],
        [("late_days", DESC)],
        [("urgent", DESC), ("_id", ASC)],
        [("title", ASC)],
    ],
    ids=lambda s: ",".join(f"{f}{'+' if d == 1 else '-'}" for f, d in s),
)
async def test_sort_and_pages(store: DocumentStore, sort: list[tuple[str, int]]) -> None:
    await _load(store)

    def key(d: dict[str, Any], f: str) -> tuple[int, Any]:
        v = _get(d, f)
        return (0, "") if v is _MISSING or v is None else (1, v)  # None/missing first

    # Stable sorts, least significant first: the _id tie-break in the last key's direction.
    expected = sorted(CASES, key=lambda d: d["_id"], reverse=sort[-1][1] == DESC)
    for f, direction in reversed(sort):
        expected = sorted(expected, key=lambda d, f=f: key(d, f), reverse=direction == DESC)
    want = _ids(expected)

    assert _ids(await store.find("cases", sort=sort)) == want  # type: ignore[arg-type]
    pages = [
        _ids(await store.find("cases", sort=sort, skip=s, limit=7))  # type: ignore[arg-type]
        for s in range(0, len(CASES), 7)
    ]
    assert [i for p in pages for i in p] == want
    assert all(len(p) == 7 for p in pages[:-1])


async def test_paging_edges(store: DocumentStore) -> None:
    await _load(store)
    assert await store.find("cases", skip=len(CASES)) == []
    assert await store.find("cases", limit=0) == []
    assert _ids(await store.find("cases", limit=3)) == ["case-000", "case-001", "case-002"]
    page = await store.find("cases", {"unit": "water"}, [("due", DESC)], skip=2, limit=2)
    want = sorted((d for d in CASES if d["unit"] == "water"), key=lambda d: (d["due"], d["_id"]))
    assert _ids(page) == _ids(want[::-1][2:4])


async def test_default_order_is_id_in_code_point_order(store: DocumentStore) -> None:
    ids = ["b", "B", "a10", "a9", "卫", "z", "Ω", "é"]
    for i in ids:
        await store.upsert("mixed", i, {"k": i})
    assert _ids(await store.find("mixed")) == sorted(ids)
    assert _ids(await store.find("mixed", sort=[("k", DESC)])) == sorted(ids, reverse=True)


async def test_missing_collection_reads_empty(store: DocumentStore) -> None:
    assert await store.find("nothing") == []
    assert await store.count("nothing") == 0
    assert await store.grouped_count("nothing", "status") == {}
    assert await store.search("nothing", "卫生") == []
    assert await store.delete("nothing", "x") is False


async def test_grouped_count(store: DocumentStore) -> None:
    await _load(store)

    def expect(field: str, flt: dict[str, Any]) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for d in CASES:
            if _oracle(d, flt):
                v = _get(d, field)
                k = None if v is _MISSING else v
                out[k] = out.get(k, 0) + 1
        return out

    for field, flt in [
        ("status", {}),
        ("unit", {"status": "open"}),
        ("loc.district", {"n": {"$gte": 3}}),
        ("late_days", {}),  # missing and null both count under None
        ("urgent", {}),
        ("n", {"unit": {"$in": ["卫生局", "water"]}}),
    ]:
        got = await store.grouped_count("cases", field, flt)
        assert got == expect(field, flt), field
    # Keys keep their JSON type: bools are not 1/0.
    urgent = await store.grouped_count("cases", "urgent")
    assert set(urgent) == {True, False} and all(type(k) is bool for k in urgent)
    n = await store.grouped_count("cases", "n")
    assert all(type(k) is int for k in n)


async def test_indexes_do_not_change_results(store: DocumentStore) -> None:
    await _load(store)
    flt = {"unit": "卫生局", "status": {"$in": ["open", "assigned"]}}
    sort: list[tuple[str, Any]] = [("due", DESC)]
    before = _ids(await store.find("cases", flt, sort, skip=1, limit=5))
    for _ in range(2):  # idempotent
        await store.ensure_index("cases", ["unit", "status", ("due", DESC)])
        await store.ensure_index("cases", ["loc.district"])
    assert _ids(await store.find("cases", flt, sort, skip=1, limit=5)) == before
    assert len(before) == 5
    assert await store.count("cases", flt) == sum(_oracle(d, flt) for d in CASES)


# -- text search -------------------------------------------------------------------------------

TEXTS = {
    "t1": {
        "title": "市卫生局窗口工作人员态度差",
        "body": "办事群众反映等候两小时",
        "unit": "卫生局",
    },
    "t2": {"title": "城管局窗口无人值守", "body": "上班时间看视频", "unit": "城管局"},
    "t3": {"title": "Housing bureau ignored REPORT", "body": "已回复未解决", "unit": "Housing"},
    "t4": {
        "title": "公交线路调整",
        "body": "ＡＢＣ公司 No.12 线路",
        "unit": "交通局",
        "tags": ["卫生", "乱收费"],
    },
    "t5": {"title": "供水", "body": "无", "unit": "water", "secret": "卫生局 不应被检索"},
}


async def _load_texts(store: DocumentStore) -> None:
    await store.ensure_text_index("texts", ["title", "body", "tags"])
    for i, d in TEXTS.items():
        await store.upsert("texts", i, d)


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ("卫生", ["t1", "t4"]),  # two-character word inside a longer run; and in a list field
        ("窗口", ["t1", "t2"]),
        ("卫生局", ["t1"]),  # t5 holds it only in a field that is not indexed
        ("卫生局 窗口", ["t1"]),  # every token must match
        ("窗口 视频", ["t2"]),
        ("局", ["t1", "t2"]),  # one character
        ("医院", []),  # absent word
        ("生窗", []),  # characters present in t1, but never adjacent
        ("report", ["t3"]),  # Latin words, case-folded
        ("HOUSING Bureau", ["t3"]),
        ("housin", []),  # no prefix matching
        ("abc", ["t4"]),  # full-width ＡＢＣ is normalised
        ("12", ["t4"]),
        ("乱收费", ["t4"]),
        ("，。！", []),  # no token at all: nothing matches
    ],
)
async def test_search_finds_chinese_words(
    store: DocumentStore, query: str, hits: list[str]
) -> None:
    await _load_texts(store)
    assert sorted(_ids(await store.search("texts", query))) == hits
    assert await store.count("texts", text=query) == len(hits)


async def test_search_results_are_clean_documents(store: DocumentStore) -> None:
    await _load_texts(store)
    (doc,) = await store.search("texts", "卫生局")
    assert doc == {"_id": "t1", **TEXTS["t1"]}
    assert await store.get("texts", "t1") == {"_id": "t1", **TEXTS["t1"]}


async def test_search_with_filter_sort_and_limit(store: DocumentStore) -> None:
    await _load_texts(store)
    assert _ids(await store.search("texts", "窗口", {"unit": "城管局"})) == ["t2"]
    assert _ids(await store.search("texts", "窗口", limit=1)) == ["t1"]
    # Strings order by code point: 城 (U+57CE) after 卫 (U+536B).
    assert _ids(await store.find("texts", sort=[("unit", DESC)], text="窗口")) == ["t2", "t1"]
    assert await store.count("texts", {"unit": {"$ne": "卫生局"}}, text="卫生") == 1


async def test_search_follows_updates_and_deletes(store: DocumentStore) -> None:
    await _load_texts(store)
    await store.upsert("texts", "t1", {"title": "已整改", "body": "", "unit": "卫生局"})
    assert _ids(await store.search("texts", "窗口")) == ["t2"]
    assert _ids(await store.search("texts", "整改")) == ["t1"]
    await store.delete("texts", "t2")
    assert await store.search("texts", "窗口") == []
    assert await store.upsert_if("texts", "t9", {"title": "窗口"}, "pos", 1) is True
    assert await store.upsert_if("texts", "t9", {"title": "卫生"}, "pos", 1) is False
    assert _ids(await store.search("texts", "窗口")) == ["t9"]
    await store.bulk_upsert("texts", [{"_id": "t9", "title": "医院窗口"}])
    assert _ids(await store.search("texts", "医院")) == ["t9"]


async def test_text_index_declared_late_indexes_existing_documents(store: DocumentStore) -> None:
    for i, d in TEXTS.items():
        await store.upsert("texts", i, d)
    await store.ensure_text_index("texts", ["title"])
    assert _ids(await store.search("texts", "窗口")) == ["t1", "t2"]
    assert await store.search("texts", "视频") == []  # body is not declared
    await store.ensure_text_index("texts", ["title", "body"])
    assert _ids(await store.search("texts", "视频")) == ["t2"]


async def test_text_index_declared_late_over_many_documents(store: DocumentStore) -> None:
    # Over 100 existing documents: FerretDB v1 deadlocks on one command of 100 updates.
    await store.bulk_upsert(
        "texts", [{"_id": f"d{i:03d}", "title": "窗口" if i % 2 else "卫生"} for i in range(130)]
    )
    await store.ensure_text_index("texts", ["title"])
    assert await store.count("texts", text="窗口") == 65
    assert await store.count("texts", text="卫生") == 65


async def test_text_declaration_survives_reopening(tmp_path: Any) -> None:
    path = tmp_path / "reopen.sqlite3"
    s1 = await open_store(path)
    await s1.ensure_text_index("texts", ["title"])
    await s1.close()
    s2 = await open_store(path)
    try:
        await s2.upsert("texts", "a", {"title": "卫生窗口"})
        assert _ids(await s2.search("texts", "窗口")) == ["a"]
    finally:
        await s2.close()


# -- collections and the whole store -----------------------------------------------------------


async def test_collections(store: DocumentStore) -> None:
    assert await store.list_collections() == []
    await store.upsert("cases", "a", {})
    await store.ensure_text_index("texts", ["title"])
    await store.ensure_index("units", ["name"])
    assert await store.list_collections() == ["cases", "texts", "units"]
    await store.drop_collection("cases")
    await store.drop_collection("texts")
    await store.drop_collection("never")
    assert await store.list_collections() == ["units"]
    assert await store.get("cases", "a") is None
    # A dropped text declaration is gone: a new collection of that name is not tokenised.
    await store.upsert("texts", "t", {"title": "窗口"})
    assert await store.search("texts", "窗口") == []


async def test_digest_tracks_content_not_history(store: DocumentStore) -> None:
    empty = await store.digest("cases")
    await _load(store)
    full = await store.digest("cases")
    assert full != empty
    assert await store.digest("cases") == full

    # Rebuild: drop, write again in another order, with a text index on.
    await store.drop_collection("cases")
    assert await store.digest("cases") == empty
    await store.ensure_text_index("cases", ["title", "unit"])
    await store.bulk_upsert("cases", list(reversed(CASES)))
    assert await store.digest("cases") == full

    await store.upsert("cases", "case-000", {**CASES[0], "n": CASES[0]["n"] + 1})
    assert await store.digest("cases") != full


@pytest.mark.mongo
async def test_digest_is_identical_across_adapters(
    both_stores: tuple[SqliteStore, MongoStore],
) -> None:
    sqlite, mongo = both_stores
    assert await sqlite.digest("cases") == await mongo.digest("cases")
    await sqlite.bulk_upsert("cases", CASES)
    await mongo.ensure_text_index("cases", ["title"])  # tokens must not leak into the digest
    for d in reversed(CASES):
        await mongo.upsert("cases", d["_id"], d)
    extra = {"f": 1.5, "whole": 3.0, "u": "é卫\u0301", "deep": {"z": [{}, {"a": []}, None]}}
    await sqlite.upsert("cases", "zz", extra)
    await mongo.upsert_if("cases", "zz", extra, "pos", 1)
    await sqlite.upsert("cases", "zz", {**extra, "pos": 1})
    assert await sqlite.digest("cases") == await mongo.digest("cases")
    await mongo.upsert("cases", "zz", {**extra, "pos": 1, "whole": 3})  # 3 is not 3.0
    assert await sqlite.digest("cases") != await mongo.digest("cases")


async def test_ping_and_close(store: DocumentStore) -> None:
    assert await store.ping() is True


async def test_sqlite_ping_is_false_after_close(tmp_path: Any) -> None:
    s = await open_store(tmp_path / "p.sqlite3")
    await s.close()
    assert await s.ping() is False


@pytest.mark.mongo
async def test_open_store_picks_the_adapter_by_url(tmp_path: Any) -> None:
    url = mongo_url()
    m = await open_store(url, database="t_factory_probe")
    s = await open_store(str(tmp_path / "f.sqlite3"))
    try:
        assert isinstance(s, SqliteStore)
        assert isinstance(m, MongoStore)
        assert await m.ping() and await s.ping()
    finally:
        if isinstance(m, MongoStore):
            await m.drop_database()
        await m.close()
        await s.close()


async def test_many_tasks_share_one_store(store: DocumentStore) -> None:
    await store.ensure_index("cases", ["unit", ("due", DESC)])

    async def writer(k: int) -> None:
        for i in range(k, 60, 6):
            await store.upsert("cases", CASES[i]["_id"], CASES[i])

    async def reader() -> int:
        total = 0
        for _ in range(10):
            total += len(await store.find("cases", {"unit": "卫生局"}, limit=50))
            await store.count("cases", {"status": "open"})
        return total

    await asyncio.gather(*(writer(k) for k in range(6)), *(reader() for _ in range(4)))
    assert await store.count("cases") == len(CASES)
    assert _ids(await store.find("cases")) == sorted(d["_id"] for d in CASES)
