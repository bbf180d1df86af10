"""A real service app keeps its read model: the projector starts and stops with the app, follows
the log as it grows, and its lag gates /readyz and shows on /metrics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from services.oversight.app import create
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.readside.projections.case_summary import CASES
from shared.readside.read_model import ReadModel, saved_position
from tests.projector_support import write_cases
from tests.web_fixtures import client, fast_settings

LAG = re.compile(r'^ledger_projector_lag_events\{service="oversight"\} (\S+)$', re.M)
POSITION = re.compile(
    r'^ledger_projector_position\{partition="(\d+)",service="oversight"\} (\S+)$', re.M
)


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)


async def test_the_service_projects_while_it_runs_and_reports_its_lag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The log must grow only by what the test writes: no timers from oversight's scheduler.
    monkeypatch.setenv("LEDGER_SCHEDULER_ENABLED", "false")
    # Small batches and a tight lag bound, so the service is visibly not ready at first.
    settings = fast_settings(
        tmp_path / "var",
        log_partitions=3,
        projector_batch=20,
        projector_max_lag=10,
        projector_poll_seconds=0.1,
    )
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        first = await write_cases(log, settings, 120, conflicts=False)
        app = create(settings)
        async with client(app) as c, app.router.lifespan_context(app):
            r = await c.get("/readyz")
            assert r.status_code == 503  # the projector has not caught up yet
            assert "projector_lag" in r.text

            async def ready() -> bool:
                return (await c.get("/readyz")).status_code == 200

            await _eventually(ready)
            store = await app.state.ledger.read_model.store()
            assert await store.count(CASES) == len(first)
            metrics = (await c.get("/metrics")).text
            assert LAG.search(metrics) is not None
            head = await log.head()
            await _eventually(lambda: _caught_up(c, head))

            # The log grows while the service runs: the read model follows.
            more = await write_cases(log, settings, 30, seed=9, conflicts=False)

            async def followed() -> bool:
                return await store.count(CASES) == len(first) + len(more)

            await _eventually(followed)
            head = await log.head()
            await _eventually(lambda: _caught_up(c, head))
        # Stopped with the app; what it applied is saved beside the read model.
        saved = ReadModel(settings, "oversight")
        try:
            assert await saved_position(await saved.store()) == head
        finally:
            await saved.close()
    finally:
        await log.close()


async def _caught_up(c: httpx.AsyncClient, head: dict[int, int]) -> bool:
    text = (await c.get("/metrics")).text
    lag = LAG.search(text)
    positions = {int(p): int(float(n)) for p, n in POSITION.findall(text)}
    return lag is not None and float(lag.group(1)) == 0 and positions == head
