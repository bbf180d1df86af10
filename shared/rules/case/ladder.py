"""supervision.*: escalation, and the ladder on the lead unit's deadline (督办升级).

The ladder follows one deadline — the lead unit's due time as the case holds it — and climbs
in order: a reminder (督办提醒, ``supervision.reminded``) before the due time, a 督办单 once
that deadline has elapsed, a 挂牌督办 only after a 督办单 on the same deadline (both
``supervision.escalated`` with their ``step``). Each step is taken once per deadline, never
before the threshold it names (by the log's clock), never while the case is not open, and
never once the lead unit has completed its part. A new due time (an extension granted, a
reopen) is a new deadline, so a new ladder. When each step's threshold falls is the writer's
decision from the published thresholds and the working-day calendar (it spans the registry);
the rule book checks the order and the time the event names.

An escalation without a step is a supervisor's own: one level above the case's current one.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, micros, state_is
from shared.rules.case.guards import all_of, in_status
from shared.rules.case.state import OPEN, CaseState
from shared.rules.verdict import Reason, Verdict, reject

REMINDER, ORDER, LISTED = "reminder", "order", "listed"


def _higher(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if d["level"] > s.escalation else state_is("already escalated to that level")


def _on_the_leads_deadline(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """The step follows the lead unit's current deadline, its part not yet done, and comes no
    earlier than the threshold it names, once."""
    clock = s.clock(d["unit"])
    if clock is None:
        return reject(Reason.not_assigned, "unit is not assigned to this case")
    if not clock.lead:
        return state_is("the ladder follows the lead unit's deadline")
    if clock.due != micros(d["due_at"]):
        return state_is("not this unit's current due time")
    if clock.completed or clock.deemed_done:
        return state_is("this unit's part is already done")
    if act.at < micros(d["threshold_at"]):
        return reject(Reason.too_early, "the log time is before the step's threshold")
    return None


def _step_of(d: dict[str, Any]) -> str:
    return str(d.get("step") or REMINDER)


def _in_order(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    step, unit, due = _step_of(d), d["unit"], micros(d["due_at"])
    if s.on_ladder(unit, due, step):
        return reject(Reason.duplicate_act, "this step was taken on this deadline already")
    elapsed = (unit, due) in s.timers
    threshold = micros(d["threshold_at"])
    if step == REMINDER:
        if elapsed or act.at >= due or threshold > due:
            return state_is("a reminder comes before the due time")
        return None
    if not elapsed or threshold < due:
        return state_is("a 督办单 or 挂牌督办 comes once the deadline has elapsed")
    if step == LISTED and not s.on_ladder(unit, due, ORDER):
        return state_is("no 挂牌督办 before a 督办单 on the same deadline")
    return None


def _escalation_checks(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d.get("step") is None:
        return None
    return _on_the_leads_deadline(s, d, act) or _in_order(s, d, act)


def _taken(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(ladder=(*s.ladder, (d["unit"], micros(d["due_at"]), _step_of(d))))


def _escalated(s: CaseState, d: dict[str, Any]) -> CaseState:
    s = s._replace(escalation=d["level"])
    return _taken(s, d) if d.get("step") is not None else s


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.supervision.reminded.v1": (
        all_of(by_body, in_status(*OPEN), _on_the_leads_deadline, _in_order),
        _taken,
    ),
    "ledger.supervision.escalated.v1": (
        all_of(by_body, in_status(*OPEN), _higher, _escalation_checks),
        _escalated,
    ),
}
