"""A log worker — a loop following the log and appending what it derives (oversight's
scheduler, intake's screening) — run inside its service's app, or alone as its own process.

Inside the app (:func:`worker_router`): a router with no routes whose lifespan starts the
worker when the service has its deployment and ``start`` returns one (its setting enabled),
registers its metrics collector once on the app's registry, and runs it under
:func:`shared.readside.follower.running` (stop, grace, cancel). Alone (:func:`run_alone`): its
metrics on their own port when asked, stopped by SIGTERM or SIGINT, and one JSON line on
stdout once it has caught up with the log, for supervisors and tests.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from shared.readside.follower import running


class LogWorker(Protocol):
    caught_up: asyncio.Event

    def run(self, stop: asyncio.Event) -> Coroutine[Any, Any, None]: ...


W = TypeVar("W", bound=LogWorker)
CollectorFor = Callable[[Callable[[], Any], str], Collector]
"""Makes the worker's collector from a getter of the worker (None while it is not running)
and the service's name."""


def worker_router(
    name: str, start: Callable[[Any], W | None], collector: CollectorFor
) -> APIRouter:
    """Included in a service's app, runs the worker ``start(context)`` gives while the app runs
    (kept on ``app.state.<name>``)."""

    @asynccontextmanager
    async def while_the_app_runs(app: FastAPI) -> AsyncIterator[None]:
        context = app.state.ledger
        worker = start(context) if context.writer is not None else None
        if worker is None:
            yield
            return
        setattr(app.state, name, worker)
        registered = f"{name}_metrics"
        if not getattr(app.state, registered, False):
            registry: CollectorRegistry = context.metrics.registry
            registry.register(collector(lambda: getattr(app.state, name, None), context.service))
            setattr(app.state, registered, True)
        async with running(worker.run, f"{context.service}-{name}"):
            yield

    return APIRouter(lifespan=while_the_app_runs)


async def run_alone(
    worker: W,
    service: str,
    collector: CollectorFor,
    metrics_port: int | None,
    status: Callable[[W], dict[str, Any]],
) -> None:
    """Run ``worker`` as this process's whole work until SIGTERM or SIGINT."""
    from prometheus_client import start_http_server

    if metrics_port is not None:
        registry = CollectorRegistry()
        registry.register(collector(lambda: worker, service))
        start_http_server(metrics_port, addr="127.0.0.1", registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait(
        [task, asyncio.create_task(worker.caught_up.wait())],
        return_when=asyncio.FIRST_COMPLETED,
    )
    if worker.caught_up.is_set():
        sys.stdout.write(json.dumps(status(worker)) + "\n")
        sys.stdout.flush()
    await task
