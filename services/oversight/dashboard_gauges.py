"""Oversight's domain gauges on ``/metrics``: open cases, overdue cases, escalated cases per
level — counted in the dashboard's read model (``oversight_dashboard``) on its indexes.

A scrape never queries the store: a task running with the app recounts (three index-only
counts) when the projector has moved since the last count, at most once per
``REFRESH_SECONDS``, and the collector reports the last counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.oversight.dashboard_projection import DASHBOARD, IN_TAB, tab_key
from shared.readside.follower import running
from shared.store.port import DocumentStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
LEVELS = range(1, 10)  # the catalog's escalation levels


@dataclass
class CaseCounts:
    open: int = 0
    overdue: int = 0
    escalated: dict[int, int] = field(default_factory=dict)  # level -> open cases at it


async def count_cases(store: DocumentStore) -> CaseCounts:
    """The gauges' figures, each an index count (see ``ensure_indexes``); per level, not a
    grouped count (SQLite would read every open case's document for it)."""
    levels = {n: await store.count(DASHBOARD, {"open": True, "escalation": n}) for n in LEVELS}
    return CaseCounts(
        open=await store.count(DASHBOARD, {"open": True}),
        overdue=await store.count(DASHBOARD, {tab_key("overdue"): IN_TAB}),
        escalated={n: k for n, k in levels.items() if k},
    )


class CaseGauges(Collector):
    def __init__(self, service: str) -> None:
        self.service = service
        self.counts: CaseCounts | None = None  # None until the first count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.counts
        if counts is None:
            return
        service = [self.service]
        open_ = GaugeMetricFamily(
            "ledger_oversight_open_cases",
            "Cases open (received, assigned, claimed or disputed), from the read model",
            labels=["service"],
        )
        open_.add_metric(service, counts.open)
        overdue = GaugeMetricFamily(
            "ledger_oversight_overdue_cases",
            "Open cases with a unit overdue (deemed done included), from the read model",
            labels=["service"],
        )
        overdue.add_metric(service, counts.overdue)
        escalated = GaugeMetricFamily(
            "ledger_oversight_escalated_cases",
            "Open cases escalated, by today's supervision level, from the read model",
            labels=["service", "level"],
        )
        for level in sorted(counts.escalated):
            escalated.add_metric([self.service, str(level)], counts.escalated[level])
        yield from (open_, overdue, escalated)


async def _refresh(context: Any, gauges: CaseGauges, stop: asyncio.Event) -> None:
    seen: dict[int, int] | None = None
    while not stop.is_set():
        projector = context.served.projector if context.served is not None else None
        position = dict(projector.position) if projector is not None else None
        if position is not None and position != seen:
            try:
                gauges.counts = await count_cases(await context.read_model.store())
                seen = position
            except Exception as exc:  # the store is away: keep the last figures, try again
                log.warning("oversight gauges: count failed (%s)", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)


@asynccontextmanager
async def _while_the_app_runs(app: FastAPI) -> AsyncIterator[None]:
    context = app.state.ledger
    gauges = getattr(app.state, "oversight_gauges", None)
    if gauges is None:  # one collector per app's registry, however often the app starts
        gauges = CaseGauges(context.service)
        context.metrics.registry.register(gauges)
        app.state.oversight_gauges = gauges

    async def refresh(stop: asyncio.Event) -> None:
        await _refresh(context, gauges, stop)

    async with running(refresh, f"{context.service}-gauges", grace=2.0):
        yield


router = APIRouter(lifespan=_while_the_app_runs)
