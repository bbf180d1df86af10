"""超时默认: dispatch's reaction to a co-unit's elapsed deadline — the unit is deemed done.

A co-unit that lets its own deadline elapse without completing its part is deemed to have
completed it (``dispatch.deemed_done``: counts as overdue, never as resolved) so the case is
not blocked by it; the lead unit is never deemed done (oversight escalates instead). The event
names the due time that elapsed and, as its cause, the ``deadline.elapsed`` it follows from;
its id is derived from that cause, so every dispatch process derives the same event and the
rule book accepts it once.

:func:`react` is pure; :class:`DeemedDone` is the shell that follows the log and writes with
dispatch's key while the dispatch app runs (see ``app.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from shared.events.ids import derived_event_id
from shared.ledger import keystore
from shared.ledger.deployments import BODY
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, Reactions, follow_forever, idle, running
from shared.rules.case.state import CaseState
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter

ELAPSED = "ledger.deadline.elapsed.v1"
DEEMED_DONE = "ledger.dispatch.deemed_done.v1"
RULE = "dispatch.deemed_done"
ACTOR = f"{BODY}/timer"
POLL_SECONDS = 1.0


def derived_id(cause: dict[str, Any]) -> str | None:
    """The deemed-done's id, for an elapsed handling deadline (a co-unit's: :func:`react`
    decides that against the case)."""
    data = cause.get("data") or {}
    if cause.get("type") != ELAPSED or data.get("deadline") != "handling":
        return None
    return derived_event_id(cause["id"], RULE)


def react(cause: dict[str, Any]) -> Decide:
    """The deemed-done an elapsed handling deadline calls for, against the case now: none for
    the lead, for a unit no longer on the case or whose part is done, or if written already.
    (An extension granted since moves the due time: the rule book then refuses it as too
    early, before anything is signed.)"""

    def decide(state: StreamState) -> list[Draft]:
        s = state.domain
        event_id = derived_id(cause)
        if event_id is None or event_id in state.seen_ids or not isinstance(s, CaseState):
            return []
        clock = s.clock(cause["data"]["unit"])
        if clock is None or clock.lead or clock.completed or clock.deemed_done:
            return []
        data = {"unit": clock.unit, "due_at": cause["data"]["due_at"], "cause": cause["id"]}
        return [Draft(DEEMED_DONE, data, ACTOR, id=event_id)]

    return decide


class DeemedDone:
    """Follows the log (case streams) and writes each deemed-done it calls for with
    dispatch's key (the app's writer). Safe beside other dispatch processes: same cause, same
    id."""

    def __init__(self, settings: LedgerSettings, writer: ServiceWriter) -> None:
        self.settings = settings
        self.service_writer = writer
        self.reactions = Reactions(derived_id, react)
        self.follower: LogFollower | None = None

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        self.reactions.observe(rec, env)

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "deemed done", poll=POLL_SECONDS)

    async def _session(self, stop: asyncio.Event) -> None:
        log = await open_log(self.settings)
        try:
            genesis = keystore.genesis_public(self.settings)
            self.follower = LogFollower(log, genesis, frozenset({"case"}), self._accepted)
            await self.follower.start()
            writer = await self.service_writer.writer()
            while not stop.is_set():
                await self.follower.catch_up()
                if self.reactions.waiting:
                    await self.reactions.settle(writer, self.follower)
                else:
                    await idle(stop, POLL_SECONDS)
        finally:
            await log.close()


@asynccontextmanager
async def _while_the_app_runs(app: FastAPI) -> AsyncIterator[None]:
    context = app.state.ledger
    if context.writer is None:
        yield
        return
    reactor = DeemedDone(context.settings, context.writer)
    async with running(reactor.run, "dispatch-deemed-done"):
        yield


router = APIRouter(lifespan=_while_the_app_runs)
"""No routes: included in the dispatch app, it runs :class:`DeemedDone` while the app runs."""
