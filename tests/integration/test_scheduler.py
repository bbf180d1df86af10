"""The scheduler on a real SQLite log, in this process: deadlines fire at their due time by the
log's clock, once; an extension moves the firing, a completed case gets no timer, a conference's
opinion deadline fires on the conference stream, a deadline that came due while no scheduler
ran fires on its return; the reactions (escalation, 超时默认) follow with derived ids; both run
with their apps, the scheduler's figures on oversight's /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.dispatch.app import create as create_dispatch
from services.oversight.app import SERVICE
from services.oversight.app import create as create_oversight
from services.oversight.deadline import Deadline
from services.oversight.scheduler import Scheduler, SchedulerCollector, SchedulerSettings
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.rules.act import micros
from shared.settings import LedgerSettings
from tests.samples import CASE, CO_UNIT, DUE, UNIT, new_case
from tests.timer_logs import (
    ASSIGN,
    DEEMED_DONE,
    ELAPSED,
    ESCALATED,
    Histories,
    assignment,
    in_seconds,
    judged,
    of_type,
    past_due_cases,
)
from tests.web_fixtures import client, fast_settings

FAST = SchedulerSettings(poll_seconds=0.05, retry_seconds=0.3)
CONF = "conf-00000000-0000-4000-8000-0000000000c1"
Ledger = tuple[LedgerSettings, EventLog]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[LedgerSettings, EventLog]]:
    settings = LedgerSettings(var_dir=tmp_path / "var", log_partitions=3)
    log = await open_log(settings)
    await init_ledger(log, settings)
    try:
        yield settings, log
    finally:
        await log.close()


@asynccontextmanager
async def running(settings: LedgerSettings) -> AsyncIterator[Scheduler]:
    spec = SERVICE.deployment
    scheduler = Scheduler(settings, spec.name, spec.deployment, FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        await asyncio.wait_for(scheduler.caught_up.wait(), 20)
        yield scheduler
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def elapsed_on(log: EventLog, settings: LedgerSettings, stream: str) -> list[dict]:
    accepted, _ = of_type(await judged(log, settings), ELAPSED)
    return [{**e["data"], "_at": r.appended_at} for r, e in accepted if r.stream == stream]


async def test_an_extension_moves_the_firing_to_the_new_time_only(ledger: Ledger) -> None:
    settings, log = ledger
    h = await Histories(log, settings).start()
    c = new_case()
    first, moved = in_seconds(1.5), in_seconds(3.0)
    async with running(settings) as s:
        await h.write(c, ASSIGN, {"ledger.dispatch.assigned.v1": assignment(first)})
        await eventually(lambda: _holds(s, Deadline(c, "handling", UNIT, micros(first))))
        await h.write(
            c,
            ["ledger.handling.extension_requested.v1", "ledger.handling.extension_ruled.v1"],
            {"ledger.handling.extension_ruled.v1": {"due_at": moved}},
        )
        await eventually(lambda: _holds(s, Deadline(c, "handling", UNIT, micros(moved))))
        assert Deadline(c, "handling", UNIT, micros(first)) not in s.pending

        async def fired() -> bool:
            return bool(await elapsed_on(log, settings, c))

        await eventually(fired)
        await asyncio.sleep(0.5)  # time for a wrong second firing to show
    [event] = await elapsed_on(log, settings, c)
    assert micros(event["due_at"]) == micros(moved) and event["unit"] == UNIT
    assert event["_at"] >= micros(moved)  # by the log's own clock, never before


async def _holds(s: Scheduler, d: Deadline) -> bool:
    return d in s.pending


async def test_a_case_completed_before_its_due_time_gets_no_timer(ledger: Ledger) -> None:
    settings, log = ledger
    h = await Histories(log, settings).start()
    done, control = new_case(), new_case()
    due = in_seconds(1.5)
    async with running(settings) as s:
        for c in (done, control):
            await h.write(c, ASSIGN, {"ledger.dispatch.assigned.v1": assignment(due)})
        await h.write(
            done,
            [
                "ledger.handling.resolution_claimed.v1",
                "ledger.complainant.confirmed.v1",
                "ledger.handling.closed.v1",
            ],
        )

        async def control_fired() -> bool:
            return bool(await elapsed_on(log, settings, control))

        await eventually(control_fired)  # the scheduler ran past the due time
        await asyncio.sleep(0.5)
        assert not any(d.stream == done for d in s.pending)
    assert await elapsed_on(log, settings, done) == []


async def test_a_conference_opinion_deadline_fires_on_the_conference_stream(ledger: Ledger) -> None:
    settings, log = ledger
    h = await Histories(log, settings).start()
    due = in_seconds(1.0)
    async with running(settings):
        await h.write(
            CONF,
            ["ledger.conference.convened.v1"],
            {"ledger.conference.convened.v1": {"cases": [CASE], "opinions_due_at": due}},
        )

        async def fired() -> bool:
            return bool(await elapsed_on(log, settings, CONF))

        await eventually(fired)
    [event] = await elapsed_on(log, settings, CONF)
    assert event["deadline"] == "opinions" and event.get("unit") is None
    assert micros(event["due_at"]) == micros(due) <= event["_at"]


async def test_deadlines_due_while_down_fire_on_return_and_show_their_lateness(
    ledger: Ledger,
) -> None:
    settings, log = ledger
    h = await Histories(log, settings).start()
    old = new_case()  # due months ago, before any scheduler ran
    await past_due_cases(log, settings, [old], co_unit_every=1)
    soon = new_case()
    due = in_seconds(0.5)
    await h.write(soon, ASSIGN, {"ledger.dispatch.assigned.v1": assignment(due)})
    await asyncio.sleep(1.5)  # due while no scheduler runs
    async with running(settings) as s:

        async def fired() -> bool:
            return len(s.pending) == 0 and s.fired == 3

        await eventually(fired)
        registry = CollectorRegistry()
        registry.register(SchedulerCollector(lambda: s, "oversight"))
        text = generate_latest(registry).decode()
    records = await judged(log, settings)
    elapsed, refused = of_type(records, ELAPSED)
    by_stream = {(r.stream, e["data"]["unit"]): r.appended_at for r, e in elapsed}
    assert set(by_stream) == {(old, UNIT), (old, CO_UNIT), (soon, UNIT)} and refused == 0
    assert by_stream[(soon, UNIT)] - micros(due) >= 1_000_000  # its log time shows it late
    assert 'ledger_scheduler_pending_deadlines{service="oversight"} 0.0' in text
    assert 'ledger_scheduler_fired_total{service="oversight"} 3.0' in text
    assert "ledger_scheduler_last_lateness_seconds" in text
    # Oversight escalated both leads' lapses, once each, naming the cause.
    escalated, _ = of_type(records, ESCALATED)
    causes = {e["id"]: r.stream for r, e in elapsed}
    assert sorted(causes[e["data"]["cause"]] for _, e in escalated) == sorted([old, soon])
    assert all(e["data"]["level"] == 1 for _, e in escalated)
    # A second run over the same log fires nothing more: the set is rebuilt from the log.
    async with running(settings) as again:
        assert len(again.pending) == 0
        await asyncio.sleep(0.3)
    assert len(await judged(log, settings)) == len(records)


async def test_both_run_with_their_apps(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path / "var", log_partitions=3, projector_poll_seconds=0.1)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        c = new_case()
        await past_due_cases(log, settings, [c], co_unit_every=1)
        oversight, dispatch = create_oversight(settings), create_dispatch(settings)
        async with (
            client(oversight) as o,
            oversight.router.lifespan_context(oversight),
            dispatch.router.lifespan_context(dispatch),
        ):

            async def reacted() -> bool:
                records = await judged(log, settings)
                return all(of_type(records, t)[0] for t in (ELAPSED, ESCALATED, DEEMED_DONE))

            await eventually(reacted, 30)
            metrics = (await o.get("/metrics")).text
            assert "ledger_scheduler_pending_deadlines" in metrics
        records = await judged(log, settings)
        [(_, deemed)] = of_type(records, DEEMED_DONE)[0]
        assert deemed["data"]["unit"] == CO_UNIT and deemed["data"]["due_at"] == DUE
        assert deemed["source"] == "/bodies/efficiency-office/dispatch"
        assert all(v.accepted for _, _, v in records)
    finally:
        await log.close()


async def test_the_scheduler_stays_off_when_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_SCHEDULER_ENABLED", "false")
    settings = fast_settings(tmp_path / "var", log_partitions=3)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await past_due_cases(log, settings, [new_case()])
        app = create_oversight(settings)
        async with client(app) as o, app.router.lifespan_context(app):
            await asyncio.sleep(1.0)
            assert "ledger_scheduler_pending_deadlines" not in (await o.get("/metrics")).text
        assert of_type(await judged(log, settings), ELAPSED) == ([], 0)
    finally:
        await log.close()
