"""A service's read model inside its app: the log, the current store copy and the projector
that follows the log into it, started and stopped with the app (its lifespan).

Readiness: not ready until the projector runs, while it is more than
``LEDGER_PROJECTOR_MAX_LAG`` records behind the log, or while the store does not answer.
``/metrics`` carries the projector's position, the log head, its lag and parked streams.
Handlers reach the store through :func:`read_store` (the copy the rebuild pointer names; a
rebuild's switch is picked up within a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import Path, Request
from prometheus_client import CollectorRegistry

from shared.events.catalog import CASE_ID_PATTERN
from shared.ledger import keystore
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.readiness import CheckResult, ReadinessCheck
from shared.readside.copies import StoreSettings
from shared.readside.metrics import lag_check, register_projector_metrics
from shared.readside.projection import Projection
from shared.readside.projector import Projector
from shared.readside.read_model import ProjectorRunner, ReadModel
from shared.store.port import DocumentStore

log = logging.getLogger(__name__)


CaseIdPath = Annotated[str, Path(pattern=CASE_ID_PATTERN)]  # a case's id in a route's path


async def read_store(request: Request) -> DocumentStore:
    """The store copy a handler of a service with a read model reads now."""
    from shared.web.context import get_context

    read_model = get_context(request).read_model
    assert read_model is not None, "this service declares no projections"
    return await read_model.store()


class ServiceReadModel:
    """Built with the app; :meth:`start` and :meth:`stop` run in its lifespan."""

    def __init__(
        self, settings: StoreSettings, service: str, projections: Sequence[Projection]
    ) -> None:
        self.settings = settings
        self.service = service
        self.projections = list(projections)
        self.read_model = ReadModel(settings, service)
        self.runner: ProjectorRunner | None = None
        self._log: EventLog | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def projector(self) -> Projector | None:
        return self.runner.projector if self.runner is not None else None

    def register_metrics(self, registry: CollectorRegistry) -> None:
        register_projector_metrics(registry, lambda: self.projector, self.service)

    def readiness_checks(self) -> list[ReadinessCheck]:
        return [
            ReadinessCheck(
                "projector_lag", lag_check(lambda: self.projector, self.settings.projector_max_lag)
            ),
            ReadinessCheck("read_store", self._store_answers),
        ]

    async def _store_answers(self) -> CheckResult:
        try:
            store = await self.read_model.store()
        except Exception as exc:  # the store is away: say which kind of failure, no details
            return CheckResult(False, f"read store unavailable ({type(exc).__name__})")
        ok = await store.ping()
        return CheckResult(ok, "read store answers" if ok else "read store does not answer")

    async def start(self) -> None:
        """Open the log and start following it (in the background: a log or store that is away
        at start-up makes the service not ready, not dead)."""
        self._stop.clear()
        self._task = asyncio.create_task(self._follow(), name=f"{self.service}-projector")

    async def _follow(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                genesis = keystore.genesis_public(self.settings)
                self._log = await open_log(self.settings)
                break
            except Exception as exc:
                log.warning(
                    "read model: ledger not available yet (%s); retrying in %.1f s",
                    type(exc).__name__,
                    backoff,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(backoff * 2, 30.0)
        else:
            return
        self.runner = ProjectorRunner(
            self.settings, self._log, self.read_model, self.projections, genesis
        )
        await self.runner.run(self._stop)

    def reached(self, target: Mapping[int, int]) -> bool:
        """Whether the read model holds every record before ``target`` (per partition)."""
        p = self.projector
        return p is not None and all(p.position.get(q, 0) >= n for q, n in target.items())

    async def wait_for(self, target: Mapping[int, int], timeout: float) -> bool:
        """Read-your-writes: wait (at most ``timeout`` seconds) until the read model has
        applied the log up to ``target``; False when it gave up."""
        if self.reached(target):
            return True
        if self.runner is not None:
            self.runner.wake()
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.005
        while not self.reached(target):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return True

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 30)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self.read_model.close()
        if self._log is not None:
            await self._log.close()
            self._log = None
