"""The projector on real stores (embedded SQLite and FerretDB): replay equality, redelivery,
poison events and their retry, rebuild with switch-over, lag.

The log is the embedded SQLite log (3 partitions); the crash tests run the Kafka log too.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.reader import fold_log
from shared.ledger.seal import record_seal
from shared.ledger.verify import verify_log
from shared.log.factory import open_log
from shared.log.port import Appended, EventLog, Positions, StoredRecord, read_all
from shared.readside.copies import StoreSettings, current_ref, open_ref
from shared.readside.dead_letters import DEAD_LETTERS, PARKED, dead_letters
from shared.readside.metrics import lag_check, register_projector_metrics
from shared.readside.projection import Accepted, Write
from shared.readside.projections.case_summary import CASES, TIMELINE, CaseSummary, status_counts
from shared.readside.projector import Projector
from shared.readside.read_model import ProjectorRunner, ReadModel, rebuild, saved_position
from shared.rules.verdict import Outcome
from shared.settings import LedgerSettings
from shared.store import DocumentStore
from tests.conftest import require_env, settings_env
from tests.projector_support import (
    clean_replay,
    digests,
    fresh_store,
    projections,
    write_cases,
)
from tests.samples import sign_steps, signers

REPO = Path(__file__).resolve().parents[2]
SERVICE = "oversight"


@pytest.fixture(params=["sqlite", "mongo"])
def store_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "mongo":
        require_env("LEDGER_TEST_MONGO_URL", "mongo")
    return str(request.param)


def _where(store_kind: str, tmp_path: Path) -> str:
    if store_kind == "mongo":
        return require_env("LEDGER_TEST_MONGO_URL", "mongo")
    return str(tmp_path)


@pytest.fixture
async def ledger_log(sqlite_settings: LedgerSettings) -> AsyncIterator[EventLog]:
    log = await open_log(sqlite_settings)
    await init_ledger(log, sqlite_settings)
    try:
        yield log
    finally:
        await log.close()


@pytest.fixture
async def store(store_kind: str, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    name = f"proj_{uuid.uuid4().hex[:10]}"
    async with fresh_store(store_kind, _where(store_kind, tmp_path), name) as s:
        yield s


def _projector(
    log: EventLog, store: DocumentStore, settings: LedgerSettings, **kw: Any
) -> Projector:
    return Projector(
        log, store, kw.pop("projs", projections()), keystore.genesis_public(settings), **kw
    )


async def test_projection_equals_a_clean_replay_and_the_rule_book(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store: DocumentStore, tmp_path: Path
) -> None:
    await write_cases(ledger_log, sqlite_settings, 60)
    p = await _projector(ledger_log, store, sqlite_settings, batch=37).start()
    await p.catch_up()
    # Live: more events arrive while it follows the log.
    await write_cases(ledger_log, sqlite_settings, 20, seed=9)
    await p.catch_up()
    async with fresh_store("sqlite", tmp_path, "clean") as clean:
        want = await clean_replay(ledger_log, sqlite_settings, clean)
    assert await digests(store) == want

    # The rule book, folded independently, agrees with every case document.
    fold = await fold_log(ledger_log, keystore.genesis_public(sqlite_settings))
    assert fold.counts[Outcome.conflict] > 0  # the log holds rejections, never projected
    cases = {d["_id"]: d for d in await store.find(CASES)}
    states = {n: s for n, s in fold.streams.items() if n.startswith("case-")}
    assert cases.keys() == states.keys()
    for name, st in states.items():
        d, dom = cases[name], st.domain
        assert (d["status"], d["unit"], d["lead_unit"], d["due_at"]) == (
            dom.status,
            dom.unit,
            dom.lead_unit,
            dom.due_at,
        )
        assert (d["overdue"], d["escalation"], d["events"]) == (
            dom.overdue,
            dom.escalation,
            st.accepted,
        )
        assert d["last_at"] == st.last_at
    assert await store.count(TIMELINE) == sum(st.accepted for st in states.values())
    # No payload text in the read model: the complaint's text never leaves the log.
    assert not any("text" in d or "summary" in d for d in await store.find(TIMELINE, limit=50))
    counts = await status_counts(store)
    assert sum(counts.values()) == len(states)


async def test_a_redelivered_batch_does_nothing_twice(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store: DocumentStore
) -> None:
    await write_cases(ledger_log, sqlite_settings, 30)
    p = await _projector(ledger_log, store, sqlite_settings, batch=50).start()
    await p.catch_up()
    before = await digests(store)
    written, applied = p.stats.docs_written, p.stats.applied

    # The same projector, moved back: its rule book has seen these events (replayed ids).
    p.seek({})
    await p.catch_up()
    assert (p.stats.docs_written, p.stats.applied) == (written, applied)

    # A new process whose position was lost: it judges everything again, writes nothing, and
    # every guarded write it might try is refused.
    await store.delete("projector", "projector")
    q = await _projector(ledger_log, store, sqlite_settings, batch=50).start()
    await q.catch_up()
    assert q.stats.docs_written == 0
    assert q.stats.skipped == applied  # each seen as applied by its per-stream document
    doc = await store.get(CASES, (await store.find(CASES, limit=1))[0]["_id"])
    assert doc is not None
    assert not await store.upsert_if(CASES, doc["_id"], {"status": "x"}, "_pos", doc["_pos"])
    assert await digests(store) == before


def _poisoned(rules_broken: str) -> CaseSummary:
    from shared.readside.projections.case_summary import RULES

    def broken(doc: dict[str, Any], d: Mapping[str, Any]) -> None:
        # A bug that quotes a payload value in its message.
        raise ValueError(f"cannot read unit {d['unit']}")

    return CaseSummary({**RULES, rules_broken: broken})


async def test_a_poison_event_parks_its_stream_and_retry_applies_the_rest_in_order(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store: DocumentStore, tmp_path: Path
) -> None:
    await write_cases(ledger_log, sqlite_settings, 40, conflicts=False)
    bad_type = "ledger.deadline.elapsed.v1"
    p = await _projector(
        ledger_log, store, sqlite_settings, batch=25, projs=[_poisoned(bad_type)]
    ).start()
    await p.catch_up()
    hit = sorted(
        {r.stream async for r in read_all(ledger_log) if orjson.loads(r.record)["type"] == bad_type}
    )
    assert hit
    letters = await dead_letters(store)
    assert sorted(d["stream"] for d in letters) == hit
    for d in letters:
        assert d["type"] == bad_type and d["error"] == "ValueError"
        assert "unit:" not in d["message"] and "<value>" in d["message"]
        assert d["parked"] >= 1  # escalation (and usually more) waits behind it
    assert p.parked == set(hit)
    # Parked streams stopped at the event before the poison; the others carry on, complete.
    async with fresh_store("sqlite", tmp_path, "clean") as clean:
        await clean_replay(ledger_log, sqlite_settings, clean)
        for d in await clean.find(CASES):
            got = await store.get(CASES, d["_id"])
            if d["_id"] in hit:
                assert got is not None and got["events"] < d["events"]
            else:
                assert got == d
        # Parked streams' events that arrive later are recorded, not applied.
        n_parked = await store.count(PARKED)
        assert n_parked == sum(d["parked"] for d in letters)

        # The fix ships; retry applies the dead letter and then the parked events, in order.
        fixed = await _projector(ledger_log, store, sqlite_settings).start()
        outcome = await fixed.retry()
        assert set(outcome) == set(hit) and all(v is None for v in outcome.values())
        assert await store.count(DEAD_LETTERS) == 0 and await store.count(PARKED) == 0
        for d in await clean.find(CASES):
            assert await store.get(CASES, d["_id"]) == d
        assert await store.digest(TIMELINE) == await clean.digest(TIMELINE)

    # The poisoned projector, still running, notices the retry and unparks the streams.
    await p.catch_up()
    p.reconcile_seconds = 0
    await p.step()
    assert p.parked == set()


async def test_a_parked_stream_unparks_itself_when_its_letter_is_gone(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store: DocumentStore, tmp_path: Path
) -> None:
    """The race of a retry with the live projector: an event parked after the retry read the
    log is applied when the projector next meets the stream."""
    cases = await write_cases(ledger_log, sqlite_settings, 10, conflicts=False)
    p = await _projector(
        ledger_log, store, sqlite_settings, projs=[_poisoned("ledger.handling.acknowledged.v1")]
    ).start()
    await p.catch_up()
    assert p.parked
    # Remove the letters (as a retry that saw none of the parked events would) and fix the code.
    for d in await store.find(DEAD_LETTERS):
        await store.delete(DEAD_LETTERS, d["_id"])
    p.projections = projections()
    p.reconcile_seconds = 3600  # so that meeting the stream, not a reconcile, unparks it
    p._reconciled = time.monotonic()
    await write_cases(ledger_log, sqlite_settings, 3, seed=77, conflicts=False)
    # A new event on a parked stream: the stream must be caught up before it.
    parked_case = sorted(p.parked)[0]
    st = p.fold.streams[parked_case]
    assert cases
    s = signers(sqlite_settings)
    reg = p.fold.registry
    extra = sign_steps(
        s,
        parked_case,
        ["ledger.complainant.satisfaction_rated.v1"]
        if st.domain.status in ("resolved", "closed")
        else ["ledger.handling.progress.v1"],
        head=st.head,
        regseq=reg.version,
        reghash=reg.hash_at(reg.version),
    )
    await ledger_log.append([(parked_case, extra[0].record)])
    await p.catch_up()
    assert parked_case not in p.parked
    async with fresh_store("sqlite", tmp_path, "clean") as clean:
        await clean_replay(ledger_log, sqlite_settings, clean)
        assert await store.get(CASES, parked_case) == await clean.get(CASES, parked_case)


async def test_lag_is_reported_on_metrics_and_readiness(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store: DocumentStore
) -> None:
    await write_cases(ledger_log, sqlite_settings, 20)
    total = sum((await ledger_log.head()).values())
    p = await _projector(ledger_log, store, sqlite_settings, batch=40).start()
    registry = CollectorRegistry()
    register_projector_metrics(registry, lambda: p, SERVICE)
    check = lag_check(lambda: p, max_lag=10)
    assert p.lag == total
    assert not (await check()).ok
    text = generate_latest(registry).decode()
    assert f'ledger_projector_lag_events{{service="{SERVICE}"}} {float(total)}' in text
    await p.step()
    assert p.lag == total - 40
    await p.catch_up()
    assert p.lag == 0
    result = await check()
    assert result.ok, result.reason
    text = generate_latest(registry).decode()
    assert f'ledger_projector_lag_events{{service="{SERVICE}"}} 0.0' in text
    for part, n in (await ledger_log.head()).items():
        assert (
            f'ledger_projector_position{{partition="{part}",service="{SERVICE}"}} {float(n)}'
            in text
        )
    assert not (await lag_check(lambda: None, 10)()).ok


# -- rebuild and the CLI -----------------------------------------------------------------------


def _store_settings(
    log_settings: LedgerSettings, store_kind: str, prefix: str
) -> tuple[StoreSettings, dict[str, str]]:
    env = settings_env(log_settings)
    extra: dict[str, Any] = {"store_database_prefix": prefix}
    if store_kind == "mongo":
        extra["store_url"] = require_env("LEDGER_TEST_MONGO_URL", "mongo")
    env.pop("LEDGER_STORE_URL", None)
    env.update({f"LEDGER_{k.upper()}": str(v) for k, v in extra.items()})
    s = StoreSettings(**log_settings.model_dump(), **extra)
    return s, env


async def _drop_generations(s: StoreSettings, upto: int) -> None:
    if not s.store_url:
        return
    from shared.readside.copies import discard_ref, ref_for

    for g in range(upto + 1):
        await discard_ref(s, SERVICE, ref_for(s, SERVICE, g))


class _MovingLog:
    """The log, with events appended just after the replay has started (on the next head())."""

    def __init__(self, log: EventLog, append: Callable[[], Awaitable[object]]) -> None:
        self.inner = log
        self.append_more = append
        self.armed = False
        self.moved = False

    @property
    def partitions(self) -> int:
        return self.inner.partitions

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[Appended]:
        return await self.inner.append(records)

    async def read(
        self, start: Mapping[int, int], *, limit: int = 1000, until: Mapping[int, int] | None = None
    ) -> list[StoredRecord]:
        return await self.inner.read(start, limit=limit, until=until)

    def read_stream(
        self, stream: str, *, until: Mapping[int, int] | None = None
    ) -> AsyncIterator[StoredRecord]:
        return self.inner.read_stream(stream, until=until)

    async def head(self) -> Positions:
        if self.armed and not self.moved:
            self.moved = True
            await self.append_more()
        return await self.inner.head()

    async def close(self) -> None:
        await self.inner.close()


def ledger_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        cwd=REPO,
        env={**env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_rebuild_switches_only_when_caught_up_and_digests_match(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store_kind: str
) -> None:
    s, _ = _store_settings(sqlite_settings, store_kind, f"t{uuid.uuid4().hex[:8]}")
    try:
        await write_cases(ledger_log, sqlite_settings, 50)
        genesis = keystore.genesis_public(s)
        served = ReadModel(s, SERVICE, check_seconds=0, grace_seconds=0.1)
        try:
            live = await _projector(ledger_log, await served.store(), s).start()
            await live.catch_up()
            old_ref = current_ref(s, SERVICE)
            # An auditor's seal: the rebuild trusts its verdicts below it (and checks the rest).
            report = await verify_log(ledger_log, genesis, digest_dirs=[])
            auditor = signers(s)["auditor"]
            await record_seal(ledger_log, auditor, genesis, report, s.var_dir / "seals")
            # The log moves on during the rebuild; the service keeps answering from the old copy.
            seen: list[str] = []
            moving = _MovingLog(ledger_log, lambda: write_cases(ledger_log, s, 10, seed=31))

            def progress(done: int, total: int) -> None:
                seen.append(current_ref(s, SERVICE).name)
                moving.armed = True

            result = await rebuild(s, SERVICE, moving, projections(), genesis, progress=progress)
            assert moving.moved
            assert seen and all(name == old_ref.name for name in seen)
            head = await ledger_log.head()
            assert result.position == head  # switched only once caught up with the head
            assert current_ref(s, SERVICE) == result.new != old_ref
            new_store = await served.store()  # the service follows the pointer
            assert served.ref == result.new
            assert await saved_position(new_store) == head
            assert result.same, (result.old_digests, result.new_digests)
            assert result.sealed_records > 0
            assert set(result.new_digests) == {"cases", "dead_letters", "parked", "timeline"}
            assert (await digests(new_store))["cases"] == result.old_digests["cases"]
        finally:
            await served.close()
    finally:
        await _drop_generations(s, 2)


async def test_cli_project_rebuild_and_dead_letters(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, store_kind: str
) -> None:
    s, env = _store_settings(sqlite_settings, store_kind, f"c{uuid.uuid4().hex[:8]}")
    try:
        await write_cases(ledger_log, sqlite_settings, 30)
        out = ledger_cli(env, "project", SERVICE)
        assert out.returncode == 0, out.stderr
        assert "0 dead letters, lag 0" in out.stdout

        # Poison a few streams in the service's read model, as a buggy release would.
        store = await open_ref(s, SERVICE, current_ref(s, SERVICE))
        try:
            await store.drop_collection(CASES)
            await store.drop_collection(TIMELINE)
            await store.delete("projector", "projector")
            p = await _projector(
                ledger_log, store, s, projs=[_poisoned("ledger.handling.acknowledged.v1")]
            ).start()
            await p.catch_up()
            hit = sorted(p.parked)
        finally:
            await store.close()
        assert hit
        listed = ledger_cli(env, "dead-letters")
        assert listed.returncode == 0, listed.stderr
        assert f"{len(hit)} dead letter(s)" in listed.stdout
        assert hit[0][:20] in listed.stdout and "ValueError" in listed.stdout

        retried = ledger_cli(env, "dead-letters", "retry", "--service", SERVICE)
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert retried.stdout.count("unparked") == len(hit)
        assert "0 dead letter(s)" in ledger_cli(env, "dead-letters").stdout

        rebuilt = ledger_cli(env, "rebuild", SERVICE, "--drop-old")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "identical" in rebuilt.stdout and "removed" in rebuilt.stdout
        assert current_ref(s, SERVICE).generation == 1
    finally:
        await _drop_generations(s, 2)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        # A shared counter: another stream's (or no stream's) document.
        (lambda e: [Write(CASES, "all-cases", {"n": 1})], "ProjectionContractError"),
        # A collection the projection did not declare.
        (lambda e: [Write("elsewhere", e.id, {"n": 1})], "ProjectionContractError"),
        # A document no store takes (arrays in arrays: FerretDB v1 refuses them).
        (lambda e: [Write(CASES, e.stream, {"pairs": [[1, 2]]})], "InvalidQuery"),
    ],
)
async def test_a_projection_that_breaks_its_contract_is_a_dead_letter(
    ledger_log: EventLog,
    sqlite_settings: LedgerSettings,
    store: DocumentStore,
    bad: Callable[[Accepted], list[Write]],
    error: str,
) -> None:
    class Broken(CaseSummary):
        name = "broken"

        def apply(self, current: dict[str, Any] | None, event: Accepted) -> list[Write]:
            return bad(event)

    await write_cases(ledger_log, sqlite_settings, 3, conflicts=False)
    p = await _projector(ledger_log, store, sqlite_settings, projs=[Broken()]).start()
    await p.catch_up()
    letters = await dead_letters(store)
    assert len(letters) == 3
    assert {d["error"] for d in letters} == {error}
    assert {d["projection"] for d in letters} == {"broken"}
    assert await store.count(CASES) == 0 and await store.count(TIMELINE) == 0


async def test_the_service_projector_follows_the_log_and_a_rebuild_switch(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, tmp_path: Path
) -> None:
    s, _ = _store_settings(sqlite_settings, "sqlite", "x")
    genesis = keystore.genesis_public(s)
    served = ReadModel(s, SERVICE, check_seconds=0, grace_seconds=0.1)
    runner = ProjectorRunner(s, ledger_log, served, projections(), genesis)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))

    async def settled(store_name: str) -> Projector:
        for _ in range(400):
            p = runner.projector
            if p is not None and served.ref is not None and served.ref.name == store_name:
                await p.refresh_head()
                if p.lag == 0 and (await saved_position(p.store)) == p.head:
                    return p
            await asyncio.sleep(0.05)
        raise AssertionError("the service projector did not catch up")

    try:
        await write_cases(ledger_log, sqlite_settings, 15)
        first = await settled("read-model-0.sqlite3")
        assert await first.store.count(CASES) == 15
        result = await rebuild(s, SERVICE, ledger_log, projections(), genesis)
        assert result.same
        await write_cases(ledger_log, sqlite_settings, 5, seed=3)
        second = await settled("read-model-1.sqlite3")
        assert second is not first and await second.store.count(CASES) == 20
    finally:
        stop.set()
        await task
        await served.close()
    assert runner.errors == 0


async def test_streams_evicted_from_memory_are_folded_again_from_the_log(
    ledger_log: EventLog, sqlite_settings: LedgerSettings, tmp_path: Path
) -> None:
    await write_cases(ledger_log, sqlite_settings, 60)
    async with fresh_store("sqlite", tmp_path, "small") as store:
        p = await _projector(ledger_log, store, sqlite_settings, batch=5, max_streams=10).start()
        await p.catch_up()
        assert p.stats.lazy_folds > 0 and len(p.fold.streams) <= 12  # 10 cases, registry, audit
        async with fresh_store("sqlite", tmp_path, "clean") as clean:
            assert await digests(store) == await clean_replay(ledger_log, sqlite_settings, clean)
