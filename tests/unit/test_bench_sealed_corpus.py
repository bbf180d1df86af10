"""The report bench's sealed corpus: built straight into the log in log order, verified and
sealed, then taken from the cache (keyed by its size and the code behind its bytes)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from shared.events.partitioner import partition_for
from shared.ledger.rebuild import rebuild_replay
from shared.log.port import read_all
from shared.rules.verdict import Outcome
from tests.bench import corpus

EVENTS = 120


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(corpus, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


async def test_the_log_holds_the_planned_cases_in_the_interleaved_order(
    tmp_path: Path, cache: Path
) -> None:
    sealed = await corpus.sealed_ledger(tmp_path / "run", EVENTS, say=lambda _: None, workers=2)
    cases = corpus.plan_cases(EVENTS)
    log = await sealed.open()
    try:
        stored = [(r.stream, orjson.loads(r.record)) async for r in read_all(log)]
        replayed = await rebuild_replay(log, sealed.genesis)
    finally:
        await log.close()
    in_cases = [(s, env["type"]) for s, env in stored if s.startswith("case-")]
    # Per partition the log keeps append order; the interleaving is the order appended.
    expected = [(s, cases[s][k].type) for s, k in corpus.interleave(cases)]
    by_partition: dict[int, list[tuple[str, str]]] = {}
    for s, t in expected:
        by_partition.setdefault(partition_for(s, corpus.PARTITIONS), []).append((s, t))
    got: dict[int, list[tuple[str, str]]] = {}
    for s, t in in_cases:
        got.setdefault(partition_for(s, corpus.PARTITIONS), []).append((s, t))
    assert got == by_partition
    assert len(in_cases) == EVENTS == sealed.meta["events"]
    assert [env["type"] for _, env in stored].count("ledger.audit.seal_recorded.v1") == 1
    assert replayed.trusted
    assert replayed.fold.counts[Outcome.accepted] == sealed.meta["records"]
    assert not replayed.fold.rejections


async def test_a_second_run_copies_the_cached_ledger_and_another_size_builds_its_own(
    tmp_path: Path, cache: Path
) -> None:
    said: list[str] = []
    first = await corpus.sealed_ledger(tmp_path / "one", EVENTS, said.append, workers=1)
    assert said[0].startswith("building")
    said.clear()
    second = await corpus.sealed_ledger(tmp_path / "two", EVENTS, said.append, workers=1)
    assert len(said) == 1 and said[0].startswith("sealed corpus of 120 events from the cache")
    assert first.meta == second.meta
    assert (tmp_path / "one" / "ledger.sqlite3").read_bytes() == (
        tmp_path / "two" / "ledger.sqlite3"
    ).read_bytes()
    said.clear()
    other = await corpus.sealed_ledger(tmp_path / "three", EVENTS // 2, said.append, workers=1)
    assert said[0].startswith("building")
    assert other.meta["events"] == EVENTS // 2
    assert corpus.cache_key(EVENTS) != corpus.cache_key(EVENTS // 2)
    assert sorted(p.name.split("-")[1] for p in cache.iterdir()) == ["120", "60"]
