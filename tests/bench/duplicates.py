"""Duplicate screening: quality on the labelled set's evaluation half, and the persisted index
at a million complaints.

Rows (each beside a raw limit measured in the same run):

- precision and recall, pair level, on ``tests/data/duplicates/eval.jsonl`` (thresholds were
  tuned on the other half), screened in order through a real :class:`DuplicateIndex` the way
  the worker does; the notes carry near-misses and distractors merged and cross-level
  precision and recall. The raw line is the bare MinHash: the same candidates, linked when the
  estimated Jaccard of the bigram signatures reaches the level that gives it the same recall
  on the tune half — what a MinHash/LSH matcher alone achieves.
- duplicate lookup p99 with ``--duplicates-index`` complaints indexed (default 1,000,000; the
  target is ≤ 10 ms), beside a bare SQLite primary-key lookup in the same file;
- the index's build time (bulk insert of generated profiles), beside a bare insert of the same
  rows' texts into a table without indexes; its size on disk beside the texts' own bytes; its
  memory (resident growth while looking up) beside the same for bare key lookups;
- screening throughput: complaints screened per second by the worker on a real SQLite log,
  beside the bare log follower reading the same log.

The generated complaints are sentences drawn from a pool (places × objects × problems); a
complaint's MinHash is the element-wise minimum of its sentences' (MinHash of a union) and its
content words their sum, so a million profiles are built in seconds, not through HTTP.
``python -m tests.bench.duplicates [size]`` runs this group alone.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from services.intake.cross_level import lower_first
from services.intake.duplicate_index import DuplicateIndex
from services.intake.duplicates import (
    NUM_PERM,
    Directory,
    Profile,
    Thresholds,
    band_keys_many,
    best_match,
    keyword_weights,
    normalised,
    profile,
    signature,
)
from shared.events.catalog import BodyDirectory, UnitDirectory
from tests.bench.common import Row, Stopwatch
from tests.data.duplicates.labelled_set import (
    Pairs,
    PairScore,
    directories,
    load,
    pair,
    score,
)

# -- quality ---------------------------------------------------------------------------------


def labelled_directory() -> Directory:
    d = directories()
    return Directory.of(
        UnitDirectory.model_validate(d["unit_directory"]),
        BodyDirectory.model_validate(d["body_directory"]),
    )


def labelled_profiles(half: str) -> list[Profile]:
    out = []
    for c in load(half):  # type: ignore[arg-type]
        data = {
            "text": c.text,
            "complaint_no": c.id,
            "received_by": c.received_by,
            "unit": c.unit,
            "category": c.category,
            "complainant": c.pseudonym,
            "stated_received_at": c.received_at,
        }
        out.append(profile(c.id, data, 0))
    return sorted(out, key=lambda p: (p.at, p.case))


def screen_in_order(
    profiles: list[Profile], directory: Directory, t: Thresholds, path: Path, bare: int | None
) -> tuple[set[tuple[str, str]], set[str]]:
    """Screen each complaint in turn against a real index of those before it: the pairs put in
    one case, and the complaints flagged cross-level. ``bare``: link on the bare MinHash
    estimate (‰) instead of the matcher."""
    path.unlink(missing_ok=True)
    index = DuplicateIndex(path)
    signatures = {p.case: signature(p.text) for p in profiles}
    groups: dict[str, list[Profile]] = {}
    root: dict[str, str] = {}
    flagged: set[str] = set()
    try:
        for p in profiles:
            candidates = index.candidates(p, directory, t)
            if bare is None:
                m = best_match(p, candidates, directory, t)
                other = m.other if m else None
            else:
                scored = [
                    (int(1000 * float(np.mean(signatures[p.case] == signatures[c.case]))), c)
                    for c in candidates
                ]
                top = max(scored, key=lambda x: x[0], default=None)
                other = top[1] if top and top[0] >= bare else None
            index.add(p)
            if other is None:
                root[p.case] = p.case
                groups[p.case] = [p]
            else:
                r = root[other.case]
                if lower_first(p, groups[r], directory) is not None:
                    flagged.add(p.case)
                root[p.case] = r
                groups[r].append(p)
                index.set_root(p.case, r)
            index.commit({})
    finally:
        index.close()
    linked = {
        pair(a.case, b.case) for g in groups.values() for a, b in itertools.combinations(g, 2)
    }
    return linked, flagged


def _figures(s: PairScore) -> dict[str, Any]:
    return {
        "precision": s.precision,
        "recall": s.recall,
        "true_links": s.true_links,
        "false_links": s.false_links,
        "missed": s.missed,
        "near_misses_merged": s.near_misses_merged,
        "distractors_merged": s.distractors_merged,
        "cross_level_precision": s.cross_level_precision,
        "cross_level_recall": s.cross_level_recall,
    }


def tune_quality(root: Path, t: Thresholds | None = None) -> dict[str, Any]:
    """The matcher's figures on the tune half alone (what tuning may read; the evaluation half
    is not opened)."""
    root.mkdir(parents=True, exist_ok=True)
    tune, pt = labelled_profiles("tune"), Pairs(load("tune"))
    t = t or Thresholds()
    linked = screen_in_order(tune, labelled_directory(), t, root / "tune.sqlite3", None)
    return {"half": "tune", "near_miss_pairs": len(pt.near_miss)} | _figures(score(pt, *linked))


def quality(root: Path) -> dict[str, Any]:
    directory, t = labelled_directory(), Thresholds()
    tune, evaluation = labelled_profiles("tune"), labelled_profiles("eval")
    pt, pe = Pairs(load("tune")), Pairs(load("eval"))
    ours = score(pe, *screen_in_order(evaluation, directory, t, root / "eval.sqlite3", None))
    tuned = score(pt, *screen_in_order(tune, directory, t, root / "tune.sqlite3", None))
    # the bare MinHash's level: the highest that reaches our recall on the tune half
    bare_level = 0
    for level in range(900, 0, -25):
        s = score(pt, *screen_in_order(tune, directory, t, root / "bare.sqlite3", level))
        bare_level = level
        if s.recall >= tuned.recall:
            break
    bare = score(pe, *screen_in_order(evaluation, directory, t, root / "bare.sqlite3", bare_level))
    return {
        "complaints": len(evaluation),
        "duplicate_pairs": len(pe.positive),
        "negative_pairs": len(pe.negative),
        "near_miss_pairs": len(pe.near_miss),
        **_figures(ours),
        "cross_level_expected": len(pe.cross_level),
        "tune_precision": tuned.precision,
        "tune_recall": tuned.recall,
        "bare_level_permille": bare_level,
        "bare_precision": bare.precision,
        "bare_recall": bare.recall,
        "bare_near_misses_merged": bare.near_misses_merged,
    }


# -- a million complaints --------------------------------------------------------------------

PLACES = [
    f"{a}{b}"
    for a in "江北桥东河南岸水口小金口汝湖马安横沥芦洲三栋"
    for b in ("路", "街", "村", "小区", "花园", "市场")
]
OBJECTS = [
    "路灯",
    "井盖",
    "垃圾站",
    "公交站台",
    "排水渠",
    "人行道",
    "围墙",
    "工地",
    "烧烤档",
    "菜市场",
    "停车场",
    "电梯",
    "楼顶",
    "窗口",
    "社保卡",
    "公积金",
    "营业执照",
    "低保",
    "学位",
    "户口",
]
PROBLEMS = [
    "坏了三个月没人修",
    "噪音扰民到凌晨",
    "占道经营堵塞交通",
    "审批超过承诺时限",
    "材料反复被退回",
    "工作人员态度恶劣",
    "举报后一直没有答复",
    "两个部门互相推诿",
    "污水横流臭味很大",
    "存在安全隐患",
    "补贴迟迟不发放",
    "排队两个小时无人办理",
    "系统故障无法提交",
    "收费不合理",
    "违规搭建没人管",
]
UNITS = 1000
PER_DISTRICT = 10  # every tenth unit is a district's, parent of the nine after it
YEARS_US = 3 * 365 * 86_400_000_000


def bench_directory() -> Directory:
    parents = {
        f"unit:b{u:04d}": f"unit:b{u - u % PER_DISTRICT:04d}"
        for u in range(UNITS)
        if u % PER_DISTRICT
    }
    return Directory(parents, {"district": "district", "city": "municipal"})


class Sentences:
    """The pool the generated complaints are drawn from, each analysed once."""

    def __init__(self, rng: random.Random, n: int = 10_000) -> None:
        combos: set[tuple[str, str, str]] = set()
        while len(combos) < n:
            combos.add((rng.choice(PLACES), rng.choice(OBJECTS), rng.choice(PROBLEMS)))
        self.texts = [f"{p}的{o}{q}" for p, o, q in sorted(combos)]
        self.norm = [normalised(t) for t in self.texts]
        self.sigs = np.stack([signature(t) for t in self.norm])
        self.keywords = [keyword_weights(t) for t in self.texts]


FRAGMENT_BIGRAMS = 8  # each complaint's own words (a date, a number, a name of a place)


def generated(
    rng: random.Random, pool: Sentences, n: int, start: int = 0, batch: int = 50_000
) -> Iterator[Profile]:
    """``n`` complaints of three pool sentences and a fragment of their own: the signature
    is the element-wise minimum of the sentences' and of the fragment's (the MinHash of the
    union: the fragment's bigrams are unique, so its minima are minima of uniform draws)."""
    np_rng = np.random.default_rng(rng.randrange(2**32))
    for first in range(start, start + n, batch):
        m = min(batch, start + n - first)
        picks = np_rng.integers(0, len(pool.texts), size=(m, 3))
        fragment = np_rng.integers(0, 2**32, size=(m, FRAGMENT_BIGRAMS, NUM_PERM)).min(axis=1)
        sigs = np.minimum(pool.sigs[picks].min(axis=1), fragment.astype(np.uint64))
        bands = band_keys_many(sigs).tolist()
        units = np_rng.integers(0, UNITS, size=m).tolist()
        ats = np_rng.integers(0, YEARS_US, size=m).tolist()
        for j, (a, b, c) in enumerate(picks.tolist()):
            i = first + j
            kw = dict(pool.keywords[a])
            for k in (b, c):
                for ch, w in pool.keywords[k].items():
                    kw[ch] = kw.get(ch, 0) + w
            yield Profile(
                case=f"case-{i:036d}",
                complaint_no=f"TS{i:012d}",
                received_by="district" if i % 3 == 0 else "city",
                unit=f"unit:b{units[j]:04d}",
                category=CATEGORIES[i % 4],
                complainant=f"{i % 300_000:064x}" if i % 4 else None,
                at=ats[j],
                text=pool.norm[a] + pool.norm[b] + pool.norm[c],
                keywords=kw,
                bands=tuple(bands[j]),
            )


CATEGORIES = ("办事拖延", "工作作风", "执法不作为", "推诿扯皮")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _private() -> int:
    """Resident pages not backed by a file: the index maps its file, and the pages it touches
    (with the kernel's fault-around, their neighbours too) count as resident, though they are
    the page cache's, shared and reclaimable."""
    with open("/proc/self/statm") as f:
        _, resident, shared, *_ = (int(x) for x in f.read().split())
    return (resident - shared) * os.sysconf("SC_PAGE_SIZE")


def p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.99 * len(xs)))]


WARM = 200


def big_index(root: Path, size: int, lookups: int = 1000) -> dict[str, Any]:
    rng = random.Random(18)
    pool = Sentences(rng)
    path = root / "index-1m.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    index = DuplicateIndex(path)
    with Stopwatch() as build:
        index.bulk_load(generated(rng, pool, size))
        index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    text_bytes = index.db.execute(
        "SELECT SUM(LENGTH(CAST(text AS BLOB))) FROM complaints"
    ).fetchone()[0]
    size_on_disk = index.size_on_disk()
    # bare: the same texts into a table without indexes, same chunks
    bare_path = root / "bare-1m.sqlite3"
    bare_path.unlink(missing_ok=True)
    bare = sqlite3.connect(bare_path, isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=NORMAL")
    bare.execute("CREATE TABLE t (k TEXT PRIMARY KEY, text TEXT)")
    rows = index.db.execute("SELECT case_id, text FROM complaints ORDER BY doc")
    with Stopwatch() as bare_build:
        while chunk := rows.fetchmany(50_000):
            bare.execute("BEGIN")
            bare.executemany("INSERT INTO t VALUES (?, ?)", chunk)
            bare.execute("COMMIT")
    bare.close()
    bare_path.unlink(missing_ok=True)
    index.close()
    # lookups on a freshly opened index, as a restarted worker would
    directory, t = bench_directory(), Thresholds()
    probes = list(generated(random.Random(81), pool, lookups + WARM, start=size))
    before, private_before = _rss(), _private()
    index = DuplicateIndex(path)
    cold: list[float] = []
    for p in probes[:WARM]:  # the first lookups after opening: the page cache fills
        s = time.perf_counter()
        best_match(p, index.candidates(p, directory, t), directory, t)
        cold.append(time.perf_counter() - s)
    ours: list[float] = []
    fetch: list[float] = []  # the index's part: the candidates read, before the matcher
    candidates = 0
    for p in probes[WARM:]:
        s = time.perf_counter()
        found = index.candidates(p, directory, t)
        fetched = time.perf_counter()
        best_match(p, found, directory, t)
        ours.append(time.perf_counter() - s)
        fetch.append(fetched - s)
        candidates += len(found)
    ours_rss, ours_private = _rss() - before, _private() - private_before
    index.close()
    keys = [f"case-{rng.randrange(size):036d}" for _ in range(lookups)]
    before = _rss()
    db = sqlite3.connect(path)
    raw: list[float] = []
    for k in keys:
        s = time.perf_counter()
        db.execute("SELECT * FROM complaints WHERE case_id = ?", (k,)).fetchone()
        raw.append(time.perf_counter() - s)
    raw_rss = _rss() - before
    db.close()
    return {
        "size": size,
        "build_s": build.timing.wall,
        "bare_build_s": bare_build.timing.wall,
        "disk_bytes": size_on_disk,
        "text_bytes": int(text_bytes),
        "lookup_p99_ms": 1000 * p99(ours),
        "lookup_p50_ms": 1000 * sorted(ours)[len(ours) // 2],
        "fetch_p99_ms": 1000 * p99(fetch),
        "fetch_p50_ms": 1000 * sorted(fetch)[len(fetch) // 2],
        "cold_p99_ms": 1000 * p99(cold),
        "pk_p99_ms": 1000 * p99(raw),
        "candidates_per_lookup": candidates / max(1, len(probes) - WARM),
        "memory_bytes": max(ours_rss, 0),
        "private_memory_bytes": max(ours_private, 0),
        "pk_memory_bytes": max(raw_rss, 4096),
    }


# -- screening throughput on a real log ------------------------------------------------------


async def throughput(root: Path, n: int = 300) -> dict[str, Any]:
    import shutil

    from services.intake.screening import Screening, ScreeningSettings
    from shared.ledger import keystore
    from shared.ledger.deployments import spec
    from shared.readside.follower import LogFollower
    from tests.data.duplicates.labelled_set import Labelled
    from tests.screening_support import open_city

    shutil.rmtree(root / "city", ignore_errors=True)
    city = await open_city(root / "city" / "var")
    items = load("tune") + load("eval")
    rng = random.Random(7)
    try:
        for i in range(n):
            c = items[i % len(items)]
            shifted = c.model_copy(update={"received_by": "efficiency-office"})
            await city.file(Labelled.model_validate(shifted.model_dump()))
        _ = rng
        config = ScreeningSettings(poll_seconds=0.02, round_size=256)
        s = Screening(
            city.settings, "intake-city", spec("intake-city", city.settings).deployment, config
        )
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(s.run(stop))
        while s.screened < n:
            await asyncio.sleep(0.05)
            assert not task.done(), "the worker stopped"
        ours_s = time.perf_counter() - started
        stop.set()
        await task
        genesis = keystore.genesis_public(city.settings)
        follower = LogFollower(city.log, genesis, frozenset({"case"}), lambda r, e, st: None)
        started = time.perf_counter()
        await follower.start()
        await follower.catch_up()
        bare_s = time.perf_counter() - started
        records = follower.records
    finally:
        await city.log.close()
    return {
        "complaints": n,
        "ours_per_s": n / ours_s,
        "records": records,
        "follower_records_per_s": records / bare_s,
        "follower_complaints_per_s": n / bare_s,
    }


def rows(root: Path, size: int) -> list[Row]:
    root.mkdir(parents=True, exist_ok=True)
    q = quality(root)
    big = big_index(root, size)
    tp = asyncio.run(throughput(root)) if not _loop_running() else None
    return _rows(q, big, tp)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def rows_async(root: Path, size: int) -> list[Row]:
    root.mkdir(parents=True, exist_ok=True)
    q = await asyncio.to_thread(quality, root)
    big = await asyncio.to_thread(big_index, root, size)
    tp = await throughput(root)
    return _rows(q, big, tp)


def _rows(q: dict[str, Any], big: dict[str, Any], tp: dict[str, Any] | None) -> list[Row]:
    return quality_rows(q) + index_rows(big, tp)


def quality_rows(q: dict[str, Any]) -> list[Row]:
    cross = (
        f"near-misses merged {q['near_misses_merged']} of {q['near_miss_pairs']}; "
        f"cross-level P {q['cross_level_precision']:.2f} R {q['cross_level_recall']:.2f}"
    )
    return [
        Row(
            "duplicates.precision",
            f"duplicate links, pair precision, eval half ({q['duplicate_pairs']} duplicate "
            f"pairs; raw: bare MinHash ≥ {q['bare_level_permille']}‰)",
            q["precision"],
            q["bare_precision"],
            "precision",
            0.0,
            extra_check=q["precision"] >= 0.95,
            target_note=f"target ≥ 0.95; {cross}",
            notes=q,
        ),
        Row(
            "duplicates.recall",
            "duplicate links, pair recall, eval half (raw: bare MinHash, same level)",
            q["recall"],
            q["bare_recall"],
            "recall",
            0.0,
            extra_check=q["recall"] >= 0.90,
            target_note=f"target ≥ 0.90; tune half P {q['tune_precision']:.2f} "
            f"R {q['tune_recall']:.2f}",
        ),
    ]


def index_rows(big: dict[str, Any], tp: dict[str, Any] | None) -> list[Row]:
    out = [
        Row(
            "duplicates.lookup_p99",
            f"duplicate lookup p99, {big['size']:,} complaints indexed "
            "(raw: bare SQLite primary-key lookup, same file)",
            big["lookup_p99_ms"],
            big["pk_p99_ms"],
            "ms",
            lower_is_better=True,
            target_max=10.0,
            target_note=f"p50 {big['lookup_p50_ms']:.2f} ms; reading the candidates: "
            f"p50 {big['fetch_p50_ms']:.2f} p99 {big['fetch_p99_ms']:.2f} ms; "
            f"first {WARM} after opening: "
            f"p99 {big['cold_p99_ms']:.1f} ms; "
            f"{big['candidates_per_lookup']:.0f} candidates per lookup",
            notes=big,
        ),
        Row(
            "duplicates.build",
            f"index build, {big['size']:,} complaints, bulk (raw: bare insert of the texts)",
            big["build_s"],
            big["bare_build_s"],
            "s",
            lower_is_better=True,
        ),
        Row(
            "duplicates.disk",
            "index size on disk (raw: the texts' own bytes)",
            big["disk_bytes"] / 1e6,
            big["text_bytes"] / 1e6,
            "MB",
            lower_is_better=True,
        ),
        Row(
            "duplicates.memory",
            "index memory while looking up, resident growth (raw: bare key lookups)",
            big["memory_bytes"] / 1e6,
            big["pk_memory_bytes"] / 1e6,
            "MB",
            lower_is_better=True,
            target_note=f"of which not the mapped file's pages: "
            f"{big['private_memory_bytes'] / 1e6:.1f} MB",
        ),
    ]
    if tp is not None:
        out.append(
            Row(
                "duplicates.throughput",
                f"screening throughput, {tp['complaints']} complaints on a SQLite log "
                "(raw: the bare log follower over the same log)",
                tp["ours_per_s"],
                tp["follower_complaints_per_s"],
                "complaints/s",
                notes=tp,
            )
        )
    return out


def main() -> None:
    import argparse
    import json

    from rich.console import Console

    from tests.bench.common import BENCH_DIR
    from tests.bench.run import render

    parser = argparse.ArgumentParser(prog="python -m tests.bench.duplicates")
    parser.add_argument("size", nargs="?", type=int, default=1_000_000, help="complaints indexed")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--quality", action="store_true", help="only the precision and recall rows (seconds)"
    )
    which.add_argument(
        "--tune", action="store_true", help="only the tune half's figures, as JSON (for tuning)"
    )
    args = parser.parse_args()
    root = BENCH_DIR / "duplicates"
    if args.tune:
        print(json.dumps(tune_quality(root), indent=1))
        return
    if args.quality:
        root.mkdir(parents=True, exist_ok=True)
        table = quality_rows(quality(root))
    else:
        table = rows(root, args.size)
    Console(width=200).print(render(table, "Duplicates"))


if __name__ == "__main__":
    main()
