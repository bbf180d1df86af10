"""Dispatch's reactions to the log, while the dispatch app runs: 超时默认 (``deemed_done.py``)
and 踢皮球 (``buck_passing.py``).

One follower reads the log (case streams) for both, hands each accepted event to each reaction
in turn, and writes the derived events they wait for with dispatch's key (the app's writer).
Safe beside other dispatch processes: same cause, same id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI

from services.dispatch.buck_passing import BuckPassing
from services.dispatch.deemed_done import DeemedDone
from shared.ledger import keystore
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, follow_forever, idle, running
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter

POLL_SECONDS = 1.0


class Reaction(Protocol):
    """Shown every accepted event; writes the derived events it waits for when settled."""

    @property
    def waiting(self) -> bool: ...

    def observe(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None: ...

    async def settle(self, writer: EventWriter, follower: LogFollower) -> int: ...


def dispatch_reactions() -> tuple[Reaction, ...]:
    """超时默认 and 踢皮球, fresh (each folds what it needs from the log's start)."""
    return (DeemedDone(), BuckPassing())


class DispatchReactor:
    """Follows the log and settles every reaction's waiting causes (see the module docstring)."""

    def __init__(
        self,
        settings: LedgerSettings,
        writer: ServiceWriter,
        make: Callable[[], Sequence[Reaction]] = dispatch_reactions,
    ) -> None:
        self.settings = settings
        self.service_writer = writer
        self.make = make
        self.reactions: Sequence[Reaction] = ()
        self.follower: LogFollower | None = None

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        for reaction in self.reactions:
            reaction.observe(rec, env, state)

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(
            stop, lambda: self._session(stop), "dispatch reactions", poll=POLL_SECONDS
        )

    async def _session(self, stop: asyncio.Event) -> None:
        log = await open_log(self.settings)
        try:
            genesis = keystore.genesis_public(self.settings)
            self.reactions = self.make()  # a session reads from the log's start: fold afresh
            self.follower = LogFollower(log, genesis, frozenset({"case"}), self._accepted)
            await self.follower.start()
            writer = await self.service_writer.writer()
            while not stop.is_set():
                await self.follower.catch_up()
                waiting = [r for r in self.reactions if r.waiting]
                for reaction in waiting:
                    await reaction.settle(writer, self.follower)
                if not waiting:
                    await idle(stop, POLL_SECONDS)
        finally:
            await log.close()


@asynccontextmanager
async def _while_the_app_runs(app: FastAPI) -> AsyncIterator[None]:
    context = app.state.ledger
    if context.writer is None:
        yield
        return
    reactor = DispatchReactor(context.settings, context.writer)
    async with running(reactor.run, "dispatch-reactions"):
        yield


router = APIRouter(lifespan=_while_the_app_runs)
"""No routes: included in the dispatch app, it runs :class:`DispatchReactor` while it runs."""
