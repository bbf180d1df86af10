"""The screening worker: every new complaint this deployment received is screened after its
acknowledgement, never inside the filing request (DESIGN: intake owns duplicate and
cross-level detection).

It follows the log (``shared/readside/follower.py``: every case record judged by the rule
book) from the position its index saved (:mod:`services.intake.duplicate_index`), adds each
complaint — whichever body received it — to the index, and for each complaint received by a
body it acts for (``received_by`` among ``LEDGER_SCREENING_BODIES``, by default its own
body) decides against the index (:mod:`services.intake.duplicates`):

* no match: ``complaint.screened`` (outcome ``new``, method ``automatic``);
* a match whose case is closed: ``complaint.screened`` (``repeat_after_closure``, naming it);
* a match: ``complaint.screened`` (``duplicate``) and ``complaint.linked_as_duplicate`` on the
  new case (the figures behind it in the event), then ``complaint.gathered`` on the target;
* a match whose case already holds a complaint received by a body of a lower level (a
  district body before this municipal one): :mod:`services.intake.cross_level` —
  ``complaint.flagged_cross_level`` naming the lower body and its complaint, ``screened``
  (``cross_level``) and the link; the lower body's case goes on being handled.

Every derived event has an id derived from its cause (UUIDv5 of the receipt, or of the link,
and the rule), so the worker killed at any moment and restarted writes no second link and
misses none: the causes still waiting are kept in the index with the position, and a copy that
races in is a replay the rule book rejects. ``gathered`` is derived from the *link* — a clerk's
manual link too — and a clerk's split of the new case is mirrored on the target the same way.

Run it with the intake app (``router``, included in ``app.py``) with
``LEDGER_SCREENING_ENABLED=true``, or alone: ``python -m services.intake.screening``.
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

from services.intake import cross_level
from services.intake.duplicate_index import Decision, DuplicateIndex
from services.intake.duplicates import (
    Directory,
    Thresholds,
    basis,
    best_match,
    profile,
    warm,
)
from shared.events.catalog import BodyDirectory, ConfigKind, UnitDirectory
from shared.events.ids import derived_event_id
from shared.ledger import keystore
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide, EventWriter
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, follow_forever, idle, written_here
from shared.rules.case.state import MERGED, OPEN, RECEIVED, CaseState
from shared.rules.fold import without_cyclic_gc
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter
from shared.web.config_in_force import typed_at
from shared.web.log_worker import run_alone, worker_router

log = logging.getLogger(__name__)

KINDS = frozenset({"case"})
SNAPSHOTS_FILE = "screening-snapshots.sqlite3"
RECEIVED_TYPE = "ledger.complaint.received.v1"
SCREENED = "ledger.complaint.screened.v1"
LINKED = "ledger.complaint.linked_as_duplicate.v1"
GATHERED = "ledger.complaint.gathered.v1"
SPLIT = "ledger.complaint.link_split.v1"
FLAGGED = "ledger.complaint.flagged_cross_level.v1"
SCREEN, GATHER, MIRROR = "screen:", "gather:", "mirror:"  # kinds of waiting causes
ACTOR_PERSON = "auto-screening"


class ScreeningSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_SCREENING_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(False, description="run the screening worker with the intake app")
    bodies: list[str] = Field(
        default_factory=list,
        description="the bodies whose complaints it screens (default: its deployment's body)",
    )
    poll_seconds: float = Field(0.5, gt=0, description="longest wait between looks at the log")
    round_size: int = Field(256, ge=1, description="causes decided per round (one append)")
    round_pause_seconds: float = Field(
        0.0, ge=0, description="rest after each round that wrote (leaves the log to filings)"
    )
    defer_seconds: float = Field(
        60.0, ge=0, description="wait this long for another body to screen a match first"
    )
    max_streams: int = Field(100_000, ge=1, description="stream states kept in memory")
    metrics_port: int | None = Field(None, description="standalone: serve /metrics on this port")


def screened_id(received_id: str) -> str:
    return derived_event_id(received_id, "screening.screened")


def linked_id(received_id: str) -> str:
    return derived_event_id(received_id, "screening.linked")


def flagged_id(received_id: str) -> str:
    return derived_event_id(received_id, "screening.cross_level")


def gathered_id(link_id: str) -> str:
    return derived_event_id(link_id, "screening.gathered")


def mirror_id(split_id: str) -> str:
    return derived_event_id(split_id, "screening.split_mirror")


class Screening:
    """The worker; see the module docstring."""

    def __init__(
        self,
        settings: LedgerSettings,
        key_name: str,
        deployment: str,
        config: ScreeningSettings | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self.config = config or ScreeningSettings()
        self.thresholds = thresholds or Thresholds()
        self.body = spec(key_name, settings).body
        self.bodies = frozenset(self.config.bodies or [self.body])
        self.actor = f"{self.body}/{ACTOR_PERSON}"
        self.index: DuplicateIndex | None = None
        self.follower: LogFollower | None = None
        self.screened = 0  # screenings this process appended and read back accepted
        self.linked = 0
        self.last_lookup_seconds: float | None = None
        self.caught_up = asyncio.Event()
        self._mine: dict[str, str] = {}  # id -> hash of the records appended here
        self._deferred: dict[str, float] = {}  # stream -> when its screening was first put off

    # -- reading ----------------------------------------------------------------------------

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        index = self.index
        assert index is not None
        kind, data, s = env.get("type", ""), env.get("data", {}), rec.stream
        event_id = env.get("id", "")
        case = state.domain if isinstance(state.domain, CaseState) else None
        mine = written_here(self._mine, rec, env)
        if kind == RECEIVED_TYPE:
            received = profile(s, data, rec.appended_at)
            index.add(received)
            if data.get("received_by") in self.bodies:
                index.wait(SCREEN + screened_id(event_id), received.at, s, env)
        elif kind == SCREENED:
            index.set_screened(s)
            index.done(SCREEN + event_id)
            index.db.execute(
                "DELETE FROM pending WHERE stream = ? AND id LIKE 'screen:%'", (s,)
            )  # a clerk's screening by hand settles it too
            self.screened += int(mine)
            index.record(
                Decision(
                    event_id,
                    rec.appended_at,
                    "screened",
                    s,
                    data.get("related_case"),
                    None,
                    {"outcome": data["outcome"], "method": data["method"]},
                )
            )
        elif kind == LINKED:
            index.set_root(s, data["target"])
            index.db.execute("UPDATE complaints SET root = ? WHERE root = ?", (data["target"], s))
            self.linked += int(mine)
            if env.get("source") == self.deployment:
                index.wait(GATHER + gathered_id(event_id), rec.appended_at, data["target"], env)
            detail = {"basis": data["basis"], "method": data.get("method", "automatic")}
            if data.get("figures"):
                detail["figures"] = data["figures"]
            p = index.get(s)
            index.record(
                Decision(
                    event_id,
                    rec.appended_at,
                    "linked",
                    s,
                    data["target"],
                    p.received_by if p else None,
                    detail,
                )
            )
        elif kind == GATHERED:
            index.done(GATHER + event_id)
        elif kind == SPLIT:
            index.done(MIRROR + event_id)
            root = index.root_of(s)
            if root is not None and root[0] == data["other"]:  # the merged side: back on its own
                index.set_root(s, s)
                if env.get("source") == self.deployment:
                    index.wait(MIRROR + mirror_id(event_id), rec.appended_at, data["other"], env)
            index.record(
                Decision(
                    event_id,
                    rec.appended_at,
                    "split",
                    s,
                    data["other"],
                    None,
                    {"reason": data["reason"]},
                )
            )
        elif kind == FLAGGED:
            p = index.get(s)
            index.record(
                Decision(
                    event_id,
                    rec.appended_at,
                    "cross_level",
                    s,
                    data["other_case"],
                    p.received_by if p else None,
                    dict(data),
                )
            )
        if case is not None and case.status not in (MERGED,):
            index.set_open(s, case.status in OPEN)

    # -- deciding ---------------------------------------------------------------------------

    def directory(self) -> Directory:
        assert self.follower is not None
        registry = self.follower.judge.fold.registry
        units = typed_at(registry, ConfigKind.unit_directory, UnitDirectory)
        bodies = typed_at(registry, ConfigKind.body_directory, BodyDirectory)
        label = ",".join(x.label for x in (units, bodies) if x is not None)
        return Directory.of(
            units.content if units else None, bodies.content if bodies else None, label
        )

    def decide_screening(
        self, stream: str, cause: dict[str, Any], directory: Directory
    ) -> Decide | None:
        """The screening of one received complaint, against the index now; None to decide it
        in a later round: its match is itself still to be screened (here, or by another body
        within ``defer_seconds``), so the case it will belong to is not known yet."""
        index = self.index
        assert index is not None
        received_id = cause["id"]
        started = time.perf_counter()
        new = index.get(stream)
        match = None
        if new is not None:
            candidates = [
                c
                for c in index.candidates(new, directory, self.thresholds)
                if (c.at, c.case) < (new.at, new.case)
            ]
            match = best_match(new, candidates, directory, self.thresholds)
        self.last_lookup_seconds = time.perf_counter() - started
        if new is not None and match is not None and not index.is_screened(match.other.case):
            waited = time.monotonic() - self._deferred.setdefault(stream, time.monotonic())
            if match.other.received_by in self.bodies or waited < self.config.defer_seconds:
                return None
        self._deferred.pop(stream, None)
        drafts: list[Draft] = []
        if new is None or match is None:
            drafts = [self._screened({"outcome": "new"}, received_id)]
        else:
            found = index.root_of(match.other.case)
            root, is_open = found if found else (match.other.case, True)
            if root == stream:
                drafts = [self._screened({"outcome": "new"}, received_id)]
            elif not is_open:
                outcome = {"outcome": "repeat_after_closure", "related_case": root}
                drafts = [self._screened(outcome, received_id, basis(match.figures))]
            else:
                note = basis(match.figures)
                lower = cross_level.lower_first(new, index.members(root), directory)
                if lower is not None:
                    flag = cross_level.flag(new, lower, directory, match.figures, note)
                    drafts.append(Draft(FLAGGED, flag, self.actor, id=flagged_id(received_id)))
                    drafts.append(self._screened({"outcome": "cross_level"}, received_id, note))
                else:
                    outcome = {"outcome": "duplicate", "related_case": root}
                    drafts.append(self._screened(outcome, received_id, note))
                link = {
                    "target": root,
                    "complaint_no": new.complaint_no,
                    "basis": note,
                    "method": "automatic",
                    "figures": match.figures.model_dump(mode="json"),
                }
                drafts.append(Draft(LINKED, link, self.actor, id=linked_id(received_id)))

        def decide(state: StreamState) -> list[Draft]:
            s = state.domain
            if not isinstance(s, CaseState) or s.screened or s.status != RECEIVED:
                return []
            return [d for d in drafts if d.id not in state.seen_ids]

        return decide

    def _screened(self, outcome: dict[str, Any], received_id: str, note: str = "") -> Draft:
        data = {**outcome, "method": "automatic", "note": note[:500]}
        return Draft(SCREENED, data, self.actor, id=screened_id(received_id))

    def decide_gathered(self, cause: dict[str, Any]) -> Decide:
        """``gathered`` on the target, for a link (automatic or by a clerk) written here."""
        index = self.index
        assert index is not None
        source = cause["subject"]
        p = index.get(source)
        data: dict[str, Any] = {"source": source, "complaint_no": cause["data"]["complaint_no"]}
        if p is not None and p.complainant is not None:
            data["complainant"] = p.complainant
        event_id = gathered_id(cause["id"])

        def decide(state: StreamState) -> list[Draft]:
            s = state.domain
            if not isinstance(s, CaseState) or event_id in state.seen_ids or s.status not in OPEN:
                return []
            if any(no == data["complaint_no"] for no, _ in s.complaints):
                return []
            return [Draft(GATHERED, data, self.actor, id=event_id)]

        return decide

    def decide_mirror(self, cause: dict[str, Any]) -> Decide:
        """The target's side of a clerk's split of a linked complaint."""
        source = cause["subject"]
        event_id = mirror_id(cause["id"])
        data = {"other": source, "reason": cause["data"]["reason"]}

        def decide(state: StreamState) -> list[Draft]:
            s = state.domain
            if not isinstance(s, CaseState) or event_id in state.seen_ids:
                return []
            if not any(src == source for src, _ in s.gathered):
                return []
            return [Draft(SPLIT, data, self.actor, id=event_id)]

        return decide

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "screening")

    async def _session(self, stop: asyncio.Event) -> None:
        log_ = await open_log(self.settings)
        service = ServiceWriter(
            self.settings,
            self.key_name,
            self.deployment,
            live=lambda: self.follower.live if self.follower is not None else None,
            snapshots_path=self.settings.var_dir / self.key_name / SNAPSHOTS_FILE,
        )
        self.index = DuplicateIndex.at(self.settings.var_dir, self.key_name)
        try:
            await asyncio.to_thread(warm)
            genesis = keystore.genesis_public(self.settings)
            self.follower = LogFollower(
                log_, genesis, KINDS, self._accepted, max_streams=self.config.max_streams
            )
            self.follower.position.update(self.index.positions())
            await self.follower.start()
            with without_cyclic_gc():
                await self.read_on()
            self.caught_up.set()
            writer = await service.writer()
            while not stop.is_set():
                if not await self.round(writer):
                    await idle(stop, self.config.poll_seconds)
                elif self.config.round_pause_seconds:
                    await idle(stop, self.config.round_pause_seconds)
        finally:
            await service.close()
            await log_.close()
            self.index.close()

    async def read_on(self) -> int:
        """Read to the head, committing the index with the position after every batch."""
        assert self.follower is not None and self.index is not None
        self.follower.head = await self.follower.log.head()
        read = 0
        while self.follower.behind > 0:
            n = await self.follower.step()
            self.index.commit(self.follower.position)
            if n == 0:
                break
            read += n
        self.index.commit(self.follower.position)
        return read

    async def round(self, writer: EventWriter) -> bool:
        """Read what is new, decide every waiting cause, append, read the verdicts; whether
        anything was written."""
        assert self.follower is not None and self.index is not None
        await self.read_on()
        pending = self.index.pending()
        if not pending:
            return False
        directory = self.directory()
        jobs: list[tuple[str, Decide]] = []
        deferred: set[str] = set()
        waiting = []
        for key, stream, cause in pending:  # the earliest first, up to a round's worth
            if len(jobs) >= self.config.round_size:
                break
            waiting.append((key, stream, cause))
            if key.startswith(SCREEN):
                decided = self.decide_screening(stream, cause, directory)
                if decided is None:
                    deferred.add(key)
                else:
                    jobs.append((stream, decided))
            elif key.startswith(GATHER):
                jobs.append((stream, self.decide_gathered(cause)))
            else:
                jobs.append((stream, self.decide_mirror(cause)))
        signed = await self.follower.write(writer, jobs)
        self._mine.update((s.id, s.hash) for s in signed)
        written = {s.id for s in signed}
        for key, _, _ in waiting:  # nothing left to write for it: it leaves the list
            if key not in deferred and key.split(":", 1)[1] not in written:
                self.index.done(key)
        self.index.commit(self.follower.position)
        if signed:
            await self.read_on()
        return bool(signed) or (bool(deferred) and len(deferred) < len(waiting))


# -- metrics ---------------------------------------------------------------------------------


class ScreeningCollector(Collector):
    def __init__(self, source: Callable[[], Screening | None], service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        s = self.source()
        if s is None:
            return
        labels = ["service"]
        screened = CounterMetricFamily(
            "ledger_screening_screened", "complaint.screened this process wrote", labels=labels
        )
        screened.add_metric([self.service], s.screened)
        linked = CounterMetricFamily(
            "ledger_screening_linked", "duplicate links this process wrote", labels=labels
        )
        linked.add_metric([self.service], s.linked)
        lookup = GaugeMetricFamily(
            "ledger_screening_last_lookup_seconds", "the last duplicate lookup", labels=labels
        )
        if s.last_lookup_seconds is not None:
            lookup.add_metric([self.service], s.last_lookup_seconds)
        yield from (screened, linked, lookup)


# -- with the app ----------------------------------------------------------------------------


def _started(context: Any) -> Screening | None:
    config = ScreeningSettings()
    if not config.enabled:
        return None
    return Screening(context.settings, context.writer.key_name, context.writer.deployment, config)


router = worker_router("screening", _started, ScreeningCollector)
"""No routes: included in the intake app, it runs the screening worker while the app runs."""


# -- alone -----------------------------------------------------------------------------------


async def main() -> None:
    from services.intake.app import SERVICE
    from shared.ledger.deployments import of_service

    settings = LedgerSettings()
    config = ScreeningSettings()
    mine = of_service(SERVICE.name, settings)
    screening = Screening(settings, mine.name, mine.deployment, config)
    await run_alone(
        screening,
        SERVICE.name,
        ScreeningCollector,
        config.metrics_port,
        lambda _: {"caught_up": True},
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
