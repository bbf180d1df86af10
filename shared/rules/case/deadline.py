"""deadline.*: timers on the case's clocks (the escalation that follows: ``ladder.py``).

Time enters only as events. A timer fires only once its due time has passed by the log's own
clock, and exactly once per (stream, unit, due time) whatever its id. A unit's handling
deadline must be that unit's current due time; the 回访 (answer) deadline is the one the lead's
claim named. When the lead unit's due time elapses it is overdue and escalation begins: the
case stays open and is never deemed done, so a complainant is never closed out by silence.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, micros, state_is
from shared.rules.case.guards import all_of
from shared.rules.case.state import ASSIGNED, CLAIMED, DISPUTED, CaseState
from shared.rules.timer import timer_key, timer_once
from shared.rules.verdict import Reason, Verdict, reject


def _timer(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if (v := timer_once(s.timers, d, act)) is not None:
        return v
    due = micros(d["due_at"])
    if d["deadline"] == "handling":
        if s.status not in (ASSIGNED, CLAIMED, DISPUTED):
            return state_is(f"no unit's clock runs while {s.status}")
        clock = s.clock(d["unit"])
        if clock is None:
            return reject(Reason.not_assigned, "unit is not assigned to this case")
        if clock.due != due:
            return state_is("not this unit's current due time")
        if clock.completed or clock.deemed_done:
            return state_is("this unit's part is already done")
        return None
    if d["deadline"] == "answer":
        if s.status != CLAIMED or s.answer_due != due:
            return state_is("no answer is awaited until that time")
        return None
    return state_is("a case holds no opinion deadline")


def _elapsed(s: CaseState, d: dict[str, Any]) -> CaseState:
    s = s._replace(timers=(*s.timers, timer_key(d)))
    if d["deadline"] == "handling":
        return s.with_clock(d["unit"], overdue=True)
    return s._replace(answer_elapsed=True)


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.deadline.elapsed.v1": (all_of(by_body, _timer), _elapsed),
}
