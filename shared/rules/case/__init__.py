"""The case stream: one incident from intake to closure, as a pure state machine.

The rules are split by event family, one file each, and joined here into the one table of what
may happen to a case (type → check, evolve). ``check`` says why an event cannot apply (a
verdict) or None; ``evolve`` returns the next state. Both see only the case's own stream (plus,
for penalties, the registry version the event names): facts that span streams — a duplicate's
target, cross-level, repeat counts — were decided by their writer and are taken as written.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve
from shared.rules.case import (
    appeal,
    buck_passing,
    complaint,
    conference_ruling,
    deadline,
    dispatch,
    first_shown,
    handling,
    ladder,
    penalty,
    proposal,
    publication,
)
from shared.rules.case.state import (
    ASSIGNED,
    CLAIMED,
    CLOSED,
    DECLINED,
    DISPUTED,
    ENDED,
    MERGED,
    NEW,
    OPEN,
    OUTCOME,
    RECEIVED,
    RESOLVED,
    WITHDRAWN,
    CaseState,
    UnitClock,
)
from shared.rules.verdict import Verdict

__all__ = [
    "ASSIGNED",
    "CLAIMED",
    "CLOSED",
    "DECLINED",
    "DISPUTED",
    "ENDED",
    "MERGED",
    "NEW",
    "OPEN",
    "OUTCOME",
    "RECEIVED",
    "RESOLVED",
    "RULES",
    "WITHDRAWN",
    "CaseState",
    "UnitClock",
    "check",
    "evolve",
    "noted",
]

RULES: dict[str, tuple[Check, Evolve]] = {
    **complaint.RULES,
    **dispatch.RULES,
    **handling.RULES,
    **deadline.RULES,
    **ladder.RULES,
    **penalty.RULES,
    **publication.RULES,
    **conference_ruling.RULES,
    **buck_passing.RULES,
    **proposal.RULES,
    **first_shown.RULES,
    **appeal.RULES,
}


def check(state: CaseState, event_type: str, data: dict[str, Any], act: Act) -> Verdict | None:
    return RULES[event_type][0](state, data, act)


def evolve(state: CaseState, event_type: str, data: dict[str, Any]) -> CaseState:
    return RULES[event_type][1](state, data)


def noted(state: CaseState, event_type: str, event_id: str, data: dict[str, Any]) -> CaseState:
    """What an accepted event's own id adds to the case: the events a unit may appeal."""
    return appeal.noted(state, event_type, event_id, data)
