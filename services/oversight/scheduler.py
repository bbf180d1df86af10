"""The scheduler: time enters the ledger as ``deadline.elapsed`` events, once each, on the
stream that holds the deadline (DESIGN principle 2; oversight owns it).

It follows the log from its start (``shared/readside/follower.py``: every case and conference
record judged by the rule book), keeps the pending deadlines of every stream
(:mod:`services.oversight.deadline`), and appends each one's ``deadline.elapsed`` — with an id
derived from (stream, unit, due time) — once its due time has passed. Oversight's own reaction
follows: the escalation ladder on each lead unit's deadline (:mod:`services.oversight.escalation`)
— a reminder before the due time, a 督办单 once its ``deadline.elapsed`` is read, a 挂牌督办
so long after — each step kept pending like a deadline (its own entry, at its threshold from the
``escalation_thresholds`` in force) and fired the same way, once.

**How time advances.** Nothing here reads a clock while rebuilding: the pending set comes from
the log alone, so a deadline that came due while no scheduler ran is simply due on return and
fires then (the event names the due time; its log time shows how late it came). What decides
that a deadline has passed is the log's own clock — the time the log stamps on the append
(SQLite at commit, Kafka ``LogAppendTime``) — judged by the rule book, which refuses a timer
stamped before its due time (``too_early``). The scheduler *tries* a deadline once its "now"
has passed it, now being the later of its wall clock and the latest log time it has read: on
a busy log the log's time carries it, on an idle log its wall clock makes it append and the
log's stamp judges. A try the log stamps too early (the log's clock behind ours) is a listed
conflict and is tried again after ``LEDGER_SCHEDULER_RETRY_SECONDS``.

**Several schedulers.** Every oversight process may run one on the same log: they derive the
same ids, the writer's check before signing sees a deadline another already fired and writes
nothing, and a copy that races in is a conflict every reader ignores (``duplicate_act``,
``replayed_id`` or ``stale_prev``, listed by ``ledger verify``). Killing one at any moment
loses nothing: its successor rebuilds the set from the log.

Run it with the oversight app (``router``, included in ``app.py``: started and stopped with
the app, its figures on the app's ``/metrics``), or alone: ``python -m
services.oversight.scheduler`` (figures on ``LEDGER_SCHEDULER_METRICS_PORT`` if set).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.oversight import escalation
from services.oversight.deadline import ELAPSED, Deadline, PendingSet, fire
from services.oversight.escalation import Ladder, Step, ladder_at
from services.oversight.notice import ESCALATED, REMINDED
from shared.ledger import keystore
from shared.ledger.live import LiveFold
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog, StoredRecord
from shared.readside.follower import (
    LogFollower,
    follow_forever,
    idle,
    written_here,
)
from shared.rules.act import micros
from shared.rules.fold import without_cyclic_gc
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter
from shared.web.log_worker import run_alone, worker_router

log = logging.getLogger(__name__)

KINDS = frozenset({"case", "conference"})  # the streams that hold deadlines
SNAPSHOTS_FILE = "scheduler-snapshots.sqlite3"


class SchedulerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_SCHEDULER_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(True, description="run the scheduler with the oversight app")
    poll_seconds: float = Field(1.0, gt=0, description="longest wait between looks at the log")
    round_size: int = Field(512, ge=1, description="deadlines fired per round (one append)")
    retry_seconds: float = Field(
        5.0, gt=0, description="wait before trying again a deadline a try did not fire"
    )
    max_streams: int = Field(100_000, ge=1, description="stream states kept in memory")
    metrics_port: int | None = Field(None, description="standalone: serve /metrics on this port")


class Scheduler:
    """Pending deadlines from the log, fired once due; see the module docstring."""

    def __init__(
        self,
        settings: LedgerSettings,
        key_name: str,
        deployment: str,
        config: SchedulerSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self.config = config or SchedulerSettings()
        self.clock = clock
        self.pending: PendingSet[Deadline] = PendingSet()
        self.ladder = Ladder(None)
        self.steps: PendingSet[Step] = self._steps()
        self.follower: LogFollower | None = None
        self.fired = 0  # deadline.elapsed this process appended and read back accepted
        self.stepped = 0  # ladder steps this process appended and read back accepted
        self._mine: dict[str, str] = {}  # id -> hash of the events appended here, until read
        self.tries = 0
        self.last_lateness: float | None = None  # s: log time of the last elapsed read - its due
        self.startup_seconds: float | None = None  # the first rebuild of the pending set
        self.caught_up = asyncio.Event()

    # -- reading ----------------------------------------------------------------------------

    def _steps(self) -> PendingSet[Step]:
        return PendingSet(lambda stream, domain: escalation.pending_of(stream, domain, self.ladder))

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        self.pending.observe(rec.stream, state.domain)
        self.steps.observe(rec.stream, state.domain)
        event_type = env.get("type")
        if event_type == ELAPSED:
            if written_here(self._mine, rec, env):
                self.fired += 1
            self.last_lateness = (rec.appended_at - micros(env["data"]["due_at"])) / 1e6
        elif event_type in (REMINDED, ESCALATED) and written_here(self._mine, rec, env):
            self.stepped += 1

    def _refresh_ladder(self) -> None:
        """Follow the thresholds (and unit names) in force: when they change, every case's
        pending steps are read again with them."""
        assert self.follower is not None
        fold = self.follower.judge.fold
        ladder = ladder_at(fold.registry, self.ladder.calendar)
        if (ladder.label, ladder.unit_names) == (self.ladder.label, self.ladder.unit_names):
            return
        self.ladder = ladder
        self.steps = self._steps()
        for stream, state in fold.streams.items():
            self.steps.observe(stream, state.domain)

    def live(self) -> LiveFold | None:
        """The follower's stream states, which the scheduler's writer shares."""
        return self.follower.live if self.follower is not None else None

    def now(self) -> int:
        """µs: the later of the wall clock and the latest log time read (see the docstring)."""
        log_time = self.follower.log_time if self.follower is not None else 0
        return max(int(self.clock() * 1_000_000), log_time)

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "scheduler")

    async def _session(self, stop: asyncio.Event) -> None:
        started = time.perf_counter()
        log_ = await open_log(self.settings)
        service = ServiceWriter(
            self.settings,
            self.key_name,
            self.deployment,
            live=self.live,
            snapshots_path=self.settings.var_dir / self.key_name / SNAPSHOTS_FILE,
        )
        try:
            await self.rebuild(log_)
            if self.startup_seconds is None:
                self.startup_seconds = time.perf_counter() - started
            self.caught_up.set()
            writer = await service.writer()
            writer.clock = lambda: self.now() / 1_000_000  # its check before signing
            while not stop.is_set():
                busy = await self.round(writer)
                if not busy:
                    await idle(stop, self._wait())
        finally:
            await service.close()
            await log_.close()

    async def rebuild(self, log_: EventLog) -> None:
        """The pending set from the log, from its start (no clock read)."""
        self.pending = PendingSet()
        self.ladder = Ladder(None)
        self.steps = self._steps()
        genesis = keystore.genesis_public(self.settings)
        self.follower = LogFollower(
            log_, genesis, KINDS, self._accepted, max_streams=self.config.max_streams
        )
        await self.follower.start()
        with without_cyclic_gc():  # the fold makes no cycles (see shared/rules/fold.py)
            await self.follower.catch_up()
        self._refresh_ladder()

    async def round(self, writer: EventWriter) -> bool:
        """Read what is new, fire what is due, read the verdicts, take the ladder steps due
        (a 督办单 on a deadline just fired among them), read again; whether anything was
        written (then the next round comes at once). Each write is decided on states that hold
        the one before, so this process never races itself for a stream's head."""
        assert self.follower is not None
        await self.follower.catch_up()
        self._refresh_ladder()
        written = await self.fire_due(writer)
        if written:
            await self.follower.catch_up()  # the verdicts: fired deadlines leave the set
        stepped = await self.step_due(writer)
        if stepped:
            await self.follower.catch_up()
        return written + stepped > 0

    async def step_due(self, writer: EventWriter) -> int:
        """Write every ladder step come by now, in one append, as :meth:`fire_due` does."""
        assert self.follower is not None
        now = self.now()
        due = self.steps.ripe(now, self.config.round_size)
        if not due:
            return 0
        by_stream: dict[str, list[Step]] = {}
        for step in due:
            by_stream.setdefault(step.stream, []).append(step)
        retry = now + int(self.config.retry_seconds * 1_000_000)
        for step in due:
            self.steps.retry_at(step, retry)
        jobs = [(s, escalation.fire(steps, self.ladder, now)) for s, steps in by_stream.items()]
        signed = await self.follower.write(writer, jobs)
        self._mine.update((s.id, s.hash) for s in signed)
        return len(signed)

    async def fire_due(self, writer: EventWriter) -> int:
        """Write the timer of every pending deadline due by now, in one append; how many
        records that was. Each deadline tried is queued again ``retry_seconds`` on: one that
        fired (by this or another scheduler) has left the set by then and is skipped; one whose
        copy lost a race, or that the log stamped before its due time, is tried again."""
        assert self.follower is not None
        now = self.now()
        due = self.pending.ripe(now, self.config.round_size)
        if not due:
            return 0
        by_stream: dict[str, list[Deadline]] = {}
        for d in due:
            by_stream.setdefault(d.stream, []).append(d)
        retry = now + int(self.config.retry_seconds * 1_000_000)
        for d in due:
            self.pending.retry_at(d, retry)
        self.tries += len(due)
        signed = await self.follower.write(writer, [(s, fire(ds)) for s, ds in by_stream.items()])
        self._mine.update((s.id, s.hash) for s in signed)
        return len(signed)

    def _wait(self) -> float:
        """Seconds until the next deadline or ladder step is due, at most the poll interval."""
        dues = [d for d in (self.pending.next_due(), self.steps.next_due()) if d is not None]
        if not dues:
            return self.config.poll_seconds
        nxt = min(dues)
        return min(self.config.poll_seconds, max(0.01, (nxt - self.now()) / 1e6))

    def deadlines(self) -> list[Deadline]:
        return sorted(self.pending, key=lambda d: (d.due, d.stream, d.unit or ""))


# -- metrics ---------------------------------------------------------------------------------


class SchedulerCollector(Collector):
    """The scheduler's figures, read at scrape time."""

    def __init__(self, source: Callable[[], Scheduler | None], service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        s = self.source()
        if s is None:
            return
        labels = ["service"]
        pending = GaugeMetricFamily(
            "ledger_scheduler_pending_deadlines", "Deadlines still to fire", labels=labels
        )
        pending.add_metric([self.service], len(s.pending))
        fired = CounterMetricFamily(
            "ledger_scheduler_fired",
            "deadline.elapsed events this process appended and saw accepted "
            "(per minute: rate over 1m)",
            labels=labels,
        )
        fired.add_metric([self.service], s.fired)
        escalated = CounterMetricFamily(
            "ledger_scheduler_escalated",
            "escalation ladder steps (supervision.reminded, supervision.escalated) this "
            "process appended and saw accepted",
            labels=labels,
        )
        escalated.add_metric([self.service], s.stepped)
        lateness = GaugeMetricFamily(
            "ledger_scheduler_last_lateness_seconds",
            "Log time of the last deadline.elapsed read, minus the due time it names",
            labels=labels,
        )
        if s.last_lateness is not None:
            lateness.add_metric([self.service], s.last_lateness)
        log_time = GaugeMetricFamily(
            "ledger_scheduler_log_time_seconds",
            "Latest log time the scheduler has read (the log's own clock)",
            labels=labels,
        )
        if s.follower is not None:
            log_time.add_metric([self.service], s.follower.log_time / 1e6)
        yield from (pending, fired, escalated, lateness, log_time)


# -- with the app ----------------------------------------------------------------------------


def _started(context: Any) -> Scheduler | None:
    config = SchedulerSettings()
    if not config.enabled:
        return None
    return Scheduler(context.settings, context.writer.key_name, context.writer.deployment, config)


router = worker_router("scheduler", _started, SchedulerCollector)
"""No routes: included in the oversight app, it runs the scheduler while the app runs."""


# -- alone -----------------------------------------------------------------------------------


async def main() -> None:
    from services.oversight.app import SERVICE

    settings = LedgerSettings()
    config = SchedulerSettings()
    spec = SERVICE.deployment
    scheduler = Scheduler(settings, spec.name, spec.deployment, config)
    # One line for supervisors and tests: rebuilt, running.
    await run_alone(
        scheduler,
        SERVICE.name,
        SchedulerCollector,
        config.metrics_port,
        lambda s: {"pending": len(s.pending), "startup_seconds": s.startup_seconds},
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
