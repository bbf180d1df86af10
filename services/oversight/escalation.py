"""Escalation (督办升级): oversight's reaction to a lead unit's elapsed deadline.

Pure. The lead unit is never deemed done: when its due time elapses it is overdue, the case
stays open and escalation begins — a ``supervision.escalated`` one level above the case's
current level, naming the ``deadline.elapsed`` it follows from as its cause. Its id is derived
from that cause, so every oversight process (and every restart of one) derives the same event,
and the rule book accepts it once.
"""

from __future__ import annotations

from typing import Any

from services.oversight.deadline import ELAPSED, TIMER_ACTOR
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.rules.case.state import OPEN, CaseState
from shared.rules.stream import StreamState

ESCALATED = "ledger.supervision.escalated.v1"
RULE = "supervision.escalated"
TOP_LEVEL = 9  # the catalog's highest level
REASON = "牵头单位超过办理时限未办结"


def _lead_lapse(cause: dict[str, Any]) -> bool:
    data = cause.get("data") or {}
    return cause.get("type") == ELAPSED and data.get("deadline") == "handling"


def derived_id(cause: dict[str, Any]) -> str | None:
    """The escalation's id, for an elapsed handling deadline (only a lead's calls for one:
    :func:`react` decides that against the case, where the lead is known)."""
    return derived_event_id(cause["id"], RULE) if _lead_lapse(cause) else None


def react(cause: dict[str, Any]) -> Decide:
    """The escalation a handling deadline's elapsing calls for, against the case now: none if
    the unit was a co-unit (dispatch deems it done instead), the case is no longer open, the
    top level is reached, or it was written already."""

    def decide(state: StreamState) -> list[Draft]:
        s = state.domain
        event_id = derived_id(cause)
        if event_id is None or event_id in state.seen_ids or not isinstance(s, CaseState):
            return []
        if s.lead_unit != cause["data"]["unit"] or s.status not in OPEN:
            return []
        if s.escalation >= TOP_LEVEL:
            return []
        data = {"level": s.escalation + 1, "reason": REASON, "cause": cause["id"]}
        return [Draft(ESCALATED, data, TIMER_ACTOR, id=event_id)]

    return decide
