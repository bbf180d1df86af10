"""超时默认: dispatch's reaction to a co-unit's elapsed deadline — the unit is deemed done.

A co-unit that lets its own deadline elapse without completing its part is deemed to have
completed it (``dispatch.deemed_done``: counts as overdue, never as resolved) so the case is
not blocked by it; the lead unit is never deemed done (oversight escalates instead). The event
names the due time that elapsed and, as its cause, the ``deadline.elapsed`` it follows from;
its id is derived from that cause, so every dispatch process derives the same event and the
rule book accepts it once.

:func:`react` is pure; :class:`DeemedDone` is the reaction the dispatch app runs while it runs
(``reactor.py``), with dispatch's key.
"""

from __future__ import annotations

from typing import Any

from shared.events.ids import derived_event_id
from shared.ledger.deployments import BODY
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide, EventWriter
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, Reactions
from shared.rules.case.state import CaseState
from shared.rules.stream import StreamState

ELAPSED = "ledger.deadline.elapsed.v1"
DEEMED_DONE = "ledger.dispatch.deemed_done.v1"
RULE = "dispatch.deemed_done"
ACTOR = f"{BODY}/timer"


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
    """The reaction ``reactor.py`` runs: each accepted elapsed handling deadline waits for
    its deemed-done (decided against the case when written)."""

    def __init__(self) -> None:
        self.reactions = Reactions(derived_id, react)

    @property
    def waiting(self) -> bool:
        return bool(self.reactions.waiting)

    def observe(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        self.reactions.observe(rec, env)

    async def settle(self, writer: EventWriter, follower: LogFollower) -> int:
        return await self.reactions.settle(writer, follower)
