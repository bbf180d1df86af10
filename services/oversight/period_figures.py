"""Signed period figures: once a month or a quarter has ended, oversight appends every unit's
numerators and denominators as ``period.figures_published`` (version 1) in the period's stream
(``period-2026-11``), computed from the log alone as of the period's end
(:mod:`shared.ledger.period_replay`). Publication shows these, never recomputes them.

Exactly once per period: the worker writes only where the period's stream holds no version,
the event's id derives from the period and the version, and the rule book accepts only the
next version — a second publisher's copy is a conflict every reader ignores. A late
correction is ``ledger correct-figures --period P --reason …``: the next version, naming the
one it replaces.

An upheld appeal (申诉复核) corrects the figures of every ended period it touches: the worker
reads each upheld ``appeal.ruled`` as it reaches the log, and for every ended period whose
figures were signed before that ruling and ended after the appealed event, recomputes the
figures; where they differ from the version in force it signs the next version, naming the one
it replaces and the appeal as its reason (:meth:`PeriodPublisher.corrections`).

It waits ``grace_seconds`` past a period's end before publishing (an append stamped just before
the end is then readable), and looks every ``poll_seconds``. Run with the oversight app
(``router``) or alone: ``python -m services.oversight.period_figures``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.ledger import keystore
from shared.ledger.deployments import BODY
from shared.ledger.period_publish import publish
from shared.ledger.period_replay import replay_period
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.readside.follower import follow_forever, idle
from shared.reports.compare import differences
from shared.reports.periods import ended_before, month_of, period
from shared.reports.rates import APPEAL_RULED
from shared.reports.signed import figures_of_event, period_stream
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter
from shared.web.log_worker import run_alone, worker_router

log = logging.getLogger(__name__)

ACTOR = f"{BODY}/period-figures"
_RULED = APPEAL_RULED.encode()


class Upheld(NamedTuple):
    """An upheld appeal's ruling, as the worker found it in the log."""

    at: int  # µs: its log time
    appeal_id: str
    stream: str  # the case
    target_event: str


class PeriodFiguresSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_PERIOD_FIGURES_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(True, description="publish the period figures with the oversight app")
    first_period: str = Field(
        "",
        pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
        description="the first month to publish (empty: the month of the log's first record)",
    )
    grace_seconds: float = Field(60.0, ge=0, description="wait past a period's end")
    poll_seconds: float = Field(60.0, gt=0, description="longest wait between looks")
    metrics_port: int | None = Field(None, description="standalone: serve /metrics on this port")


class PeriodPublisher:
    """Publishes version 1 of every ended period's figures (see the module docstring)."""

    def __init__(
        self,
        settings: LedgerSettings,
        key_name: str,
        deployment: str,
        config: PeriodFiguresSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self.config = config or PeriodFiguresSettings()
        self.clock = clock
        self.published: list[str] = []  # periods this process published
        self.corrected: list[str] = []  # periods this process corrected after an appeal
        self._read_to: dict[int, int] = {}  # how far the log has been read for rulings
        self._upheld: list[Upheld] = []  # rulings whose periods are still to be looked at
        self.caught_up = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "period figures")

    async def _session(self, stop: asyncio.Event) -> None:
        log_ = await open_log(self.settings)
        service = ServiceWriter(self.settings, self.key_name, self.deployment)
        try:
            writer = await service.writer()
            while not stop.is_set():
                await self.round(log_, writer)
                self.caught_up.set()
                await idle(stop, self.config.poll_seconds)
        finally:
            await service.close()
            await log_.close()

    async def first_month(self, log_: EventLog) -> str | None:
        if self.config.first_period:
            return self.config.first_period
        head = await log_.head()
        times: list[int] = []
        for p in range(log_.partitions):  # each partition's first record
            first = await log_.read({**head, p: 0}, limit=1)
            times += [r.appended_at for r in first]
        return month_of(min(times)) if times else None

    async def round(self, log_: EventLog, writer: EventWriter) -> list[str]:
        """Publish every ended period that has no version yet; which periods it published."""
        first = await self.first_month(log_)
        if first is None:
            return []
        now = int((self.clock() - self.config.grace_seconds) * 1_000_000)
        genesis = keystore.genesis_public(self.settings)
        fold = await registry_fold(log_, genesis)
        done: list[str] = []
        for period_id in ended_before(now, first):
            state = await fold_stream(log_, fold, period_stream(period_id))
            if state.domain.version > 0:
                continue
            replay = await replay_period(log_, genesis, period(period_id))
            sub = await publish(writer, period_id, replay.fold.figures(), ACTOR)
            if sub.accepted:
                done.append(period_id)
                log.info("period figures published for %s", period_id)
            elif sub.written:
                log.warning("period figures for %s refused: %s", period_id, sub.refused)
        self.published += done
        return done + await self.corrections(log_, writer, now, first)

    async def corrections(
        self, log_: EventLog, writer: EventWriter, now: int, first: str
    ) -> list[str]:
        """Sign the corrected figures of every ended period an upheld appeal touches (see the
        module docstring); which periods it corrected. A ruling stays to be looked at again
        while a correction it calls for is not accepted."""
        async for rec in read_all(log_, self._read_to):
            self._read_to[rec.partition] = rec.offset + 1
            if rec.stream.startswith("case-") and _RULED in rec.record:
                env = orjson.loads(rec.record)
                d = env["data"]
                if env["type"] == APPEAL_RULED and d.get("outcome") == "upheld":
                    ruling = Upheld(rec.appended_at, d["appeal_id"], rec.stream, d["target_event"])
                    self._upheld.append(ruling)
        if not self._upheld:
            return []
        genesis = keystore.genesis_public(self.settings)
        fold = await registry_fold(log_, genesis)
        done: list[str] = []
        waiting: list[Upheld] = []
        for ruling in self._upheld:
            target_at = await _log_time_of(log_, ruling.stream, ruling.target_event)
            settled = True
            for period_id in ended_before(now, first):
                p = period(period_id)
                if target_at is None or p.end <= target_at:
                    continue  # the appealed event came after the period: nothing to correct
                state = await fold_stream(log_, fold, period_stream(period_id))
                if state.domain.version == 0 or state.last_at > ruling.at:
                    continue  # not signed yet, or signed with the ruling already in the log
                replay = await replay_period(log_, genesis, p)
                signed = replay.latest_signed
                ours = replay.fold.figures()
                if signed is None or not differences(ours, figures_of_event(signed)):
                    continue
                reason = f"申诉复核：申诉 {ruling.appeal_id} 成立，更正受影响的数字"
                sub = await publish(writer, period_id, ours, ACTOR, correction=reason)
                if sub.accepted:
                    done.append(period_id)
                    log.info("period figures for %s corrected after an appeal", period_id)
                else:
                    settled = False
                    log.warning("correction of %s refused: %s", period_id, sub.refused)
            if not settled:
                waiting.append(ruling)
        self._upheld = waiting
        self.corrected += done
        return done


async def _log_time_of(log_: EventLog, stream: str, event_id: str) -> int | None:
    """The log time of the first record of ``stream`` with that event id (None: not there)."""
    async for rec in log_.read_stream(stream):
        if orjson.loads(rec.record).get("id") == event_id:
            return rec.appended_at
    return None


class PeriodFiguresCollector(Collector):
    def __init__(self, source: Callable[[], PeriodPublisher | None], service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        p = self.source()
        if p is None:
            return
        published = CounterMetricFamily(
            "ledger_period_figures_published",
            "Period figures (version 1) this process published and saw accepted",
            labels=["service"],
        )
        published.add_metric([self.service], len(p.published))
        yield published
        corrected = CounterMetricFamily(
            "ledger_period_figures_corrected",
            "Period figures this process corrected after an upheld appeal and saw accepted",
            labels=["service"],
        )
        corrected.add_metric([self.service], len(p.corrected))
        yield corrected


def _started(context: Any) -> PeriodPublisher | None:
    config = PeriodFiguresSettings()
    if not config.enabled:
        return None
    return PeriodPublisher(
        context.settings, context.writer.key_name, context.writer.deployment, config
    )


router = worker_router("period_figures", _started, PeriodFiguresCollector)
"""No routes: included in the oversight app, it publishes the period figures while it runs."""


async def main() -> None:
    from services.oversight.app import SERVICE

    settings = LedgerSettings()
    config = PeriodFiguresSettings()
    spec = SERVICE.deployment
    publisher = PeriodPublisher(settings, spec.name, spec.deployment, config)
    await run_alone(
        publisher,
        SERVICE.name,
        PeriodFiguresCollector,
        config.metrics_port,
        lambda p: {"published": p.published},
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
