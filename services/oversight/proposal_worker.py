"""The proposal worker: follows the log and writes the penalty proposals its facts call for.

Each deemed done, disputed resolution and inspection finding gets its ``penalty.proposed``
(:mod:`services.oversight.proposals`, id derived from the cause), and each unit past the
leadership threshold in a month gets its leadership proposal
(:mod:`services.oversight.leadership`), naming the post-holder at the time from the staff
directory (oversight's durable store). Like the scheduler it rebuilds everything from the log
on start (no clock read); several may run on one log: they derive the same ids, and a copy
that races in is a conflict every reader ignores.

Run with the oversight app (``router``, in ``app.py``) or alone: ``python -m
services.oversight.proposal_worker``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.oversight import leadership, proposals
from services.oversight.staff_directory import StaffDirectory, holder_at
from shared.events.catalog import ConfigKind, LeadershipThreshold, PenaltySchedule
from shared.ledger import keystore
from shared.ledger.live import LiveFold
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, Reactions, follow_forever, idle
from shared.rules.case.state import CaseState
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter
from shared.web.config_in_force import typed_at
from shared.web.log_worker import run_alone, worker_router

log = logging.getLogger(__name__)

KINDS = frozenset({"case"})
SNAPSHOTS_FILE = "proposal-snapshots.sqlite3"
OpenDirectory = Callable[[], Awaitable[StaffDirectory]]


class ProposalSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_PROPOSALS_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(True, description="run the proposal worker with the oversight app")
    poll_seconds: float = Field(1.0, gt=0, description="longest wait between looks at the log")
    round_size: int = Field(512, ge=1, description="proposals written per round (one append)")


class ProposalWorker:
    def __init__(
        self,
        settings: LedgerSettings,
        key_name: str,
        deployment: str,
        directory: OpenDirectory,
        config: ProposalSettings | None = None,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self.directory = directory
        self.config = config or ProposalSettings()
        self.causes = Reactions(proposals.derived_id, proposals.react)
        self.tally = leadership.Tally()
        self.passed: dict[str, leadership.Passed] = {}  # leadership proposals still to write
        self.leadership_written = 0
        self.follower: LogFollower | None = None
        self.caught_up = asyncio.Event()

    def threshold(self) -> LeadershipThreshold | None:
        if self.follower is None:
            return None
        found = typed_at(
            self.follower.judge.fold.registry, ConfigKind.penalty_schedule, PenaltySchedule
        )
        return found.content.leadership if found is not None else None

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        self.causes.observe(rec, env)
        case = state.domain
        lead = case.lead_unit if isinstance(case, CaseState) else None
        passed = self.tally.observe(rec.stream, env, lead, rec.appended_at, self.threshold())
        if passed is not None:
            self.passed[passed.proposal_id] = passed  # the latest view of the same passing
        self.passed.pop(env.get("id", ""), None)  # a leadership proposal read back

    def live(self) -> LiveFold | None:
        return self.follower.live if self.follower is not None else None

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "proposals")

    async def _session(self, stop: asyncio.Event) -> None:
        log_ = await open_log(self.settings)
        service = ServiceWriter(
            self.settings,
            self.key_name,
            self.deployment,
            live=self.live,
            snapshots_path=self.settings.var_dir / self.key_name / SNAPSHOTS_FILE,
        )
        try:
            self.causes = Reactions(proposals.derived_id, proposals.react)
            self.tally, self.passed = leadership.Tally(), {}
            genesis = keystore.genesis_public(self.settings)
            self.follower = LogFollower(log_, genesis, KINDS, self._accepted)
            await self.follower.start()
            await self.follower.catch_up()
            self.caught_up.set()
            writer = await service.writer()
            while not stop.is_set():
                if not await self.round(writer):
                    await idle(stop, self.config.poll_seconds)
        finally:
            await service.close()
            await log_.close()

    async def round(self, writer: EventWriter) -> bool:
        """Read what is new and write what it calls for; whether anything was written."""
        assert self.follower is not None
        await self.follower.catch_up()
        written = 0
        if self.causes.waiting:
            written += await self.causes.settle(writer, self.follower, self.config.round_size)
        threshold = self.threshold()
        if self.passed and threshold is not None:
            entries = await (await self.directory()).all()
            jobs = []
            for p in list(self.passed.values())[: self.config.round_size]:
                holder = holder_at(entries, p.unit, threshold.post, leadership.local_day(p.at))
                jobs.append((p.stream, leadership.react(p, threshold, holder)))
            signed = await self.follower.write(writer, jobs)
            mine = {s.id for s in signed}
            for proposal_id in list(self.passed):
                if proposal_id not in mine:
                    self.passed.pop(proposal_id, None)  # nothing left to write for it
            self.leadership_written += len(signed)
            written += len(signed)
        if written:
            await self.follower.catch_up()
        return written > 0


class ProposalCollector(Collector):
    def __init__(self, source: Callable[[], ProposalWorker | None], service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        w = self.source()
        if w is None:
            return
        written = CounterMetricFamily(
            "ledger_penalty_proposals_written",
            "penalty.proposed events this process appended (causes read back accepted, and "
            "leadership proposals appended)",
            labels=["service"],
        )
        written.add_metric([self.service], w.causes.written + w.leadership_written)
        waiting = GaugeMetricFamily(
            "ledger_penalty_proposals_waiting",
            "Causes read whose proposal is not yet read back",
            labels=["service"],
        )
        waiting.add_metric([self.service], len(w.causes.waiting) + len(w.passed))
        yield from (written, waiting)


def _started(context: Any) -> ProposalWorker | None:
    config = ProposalSettings()
    if not config.enabled or context.durable is None:
        return None
    durable = context.durable

    async def directory() -> StaffDirectory:
        return StaffDirectory(await durable.store())

    return ProposalWorker(
        context.settings, context.writer.key_name, context.writer.deployment, directory, config
    )


router = worker_router("proposals", _started, ProposalCollector)
"""No routes: included in the oversight app, it runs the proposal worker while the app runs."""


async def main() -> None:
    from services.oversight.app import SERVICE
    from shared.durable.handle import DurableHandle
    from shared.web.settings import WebSettings

    settings = WebSettings()
    config = ProposalSettings()
    spec = SERVICE.deployment
    handle = DurableHandle(settings, SERVICE.name)

    async def directory() -> StaffDirectory:
        return StaffDirectory(await handle.store())

    worker = ProposalWorker(settings, spec.name, spec.deployment, directory, config)
    try:
        await run_alone(
            worker,
            SERVICE.name,
            ProposalCollector,
            None,
            lambda w: {"waiting": len(w.causes.waiting) + len(w.passed)},
        )
    finally:
        await handle.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
