"""The escalation ladder (督办升级) on a lead unit's deadline: reminder → 督办单 → 挂牌督办.

Pure. The lead unit is never deemed done: when its due time nears, oversight reminds it; when
its deadline elapses, the case stays open and a 督办单 goes out; so long after that, with the
case still not done, it is listed for supervision (挂牌督办). When each step comes is read from
the ``escalation_thresholds`` version in force (``remind_before`` the due time, ``list_after``
it, on the working-day calendar); the 督办单 comes with the deadline's own ``deadline.elapsed``
and needs no threshold. Each step is one event carrying its notice text
(:mod:`services.oversight.notice`) and the thresholds version it used:
``supervision.reminded``, then ``supervision.escalated`` with ``step`` ``order`` and
``listed``, each one level above the case's current one.

A case's pending steps are read off its state as the rule book folds it (like
``deadline.py``'s timers), so a restart rebuilds them from the log and fires nothing twice;
each step's id is derived from (stream, unit, due time, step): every oversight process derives
the same event, and the rule book accepts it once (``shared/rules/case/ladder.py``). A new
due time — an extension granted, a reopen — is a new deadline, so a new ladder. Without
thresholds in force the 督办单 still goes out (naming none); the reminder and 挂牌督办 wait
for a version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from services.oversight.deadline import TIMER_ACTOR, Deadline, timestamp
from services.oversight.notice import ESCALATED, REMINDED, notice_text
from shared.calendar import (
    SHANGHAI,
    LimitUnit,
    StatutoryCalendar,
    TimeLimit,
    WorkingCalendar,
    due_at,
)
from shared.events.catalog import (
    ConfigKind,
    EscalationThresholds,
    LadderStep,
    LimitSpec,
    UnitDirectory,
)
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.rules.case.state import ASSIGNED, CLAIMED, DISPUTED, CaseState
from shared.rules.registry import Registry
from shared.rules.stream import StreamState
from shared.web.config_in_force import InForce, typed_at

RULE = "supervision.ladder"
TOP_LEVEL = 9  # the catalog's highest level
REASONS = {
    LadderStep.order: "牵头单位超过办理时限未办结",
    LadderStep.listed: "督办单发出后仍未办结，挂牌督办",
}
_CLOCKS_RUN = (ASSIGNED, CLAIMED, DISPUTED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@cache
def statutory() -> StatutoryCalendar:
    return StatutoryCalendar()


@dataclass(frozen=True)
class Ladder:
    """What the steps are decided with: the thresholds in force (if any), the working-day
    calendar, and the units' names (the unit directory in force) for the notices."""

    thresholds: InForce[EscalationThresholds] | None
    calendar: WorkingCalendar = field(default_factory=statutory)
    unit_names: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        return self.thresholds.label if self.thresholds is not None else None


def ladder_at(registry: Registry, calendar: WorkingCalendar | None = None) -> Ladder:
    """The ladder as the registry's configuration in force gives it."""
    thresholds = typed_at(registry, ConfigKind.escalation_thresholds, EscalationThresholds)
    units = typed_at(registry, ConfigKind.unit_directory, UnitDirectory)
    names = {u.id: u.name for u in units.content.units} if units is not None else {}
    return Ladder(thresholds, calendar or statutory(), names)


def _us(at: datetime) -> int:
    return (at - _EPOCH) // _US


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def ahead_of(due: int, limit: LimitSpec, calendar: WorkingCalendar) -> int:
    """µs: ``limit`` before a due time. Hours are elapsed time; N working days back is the
    same clock time on the Nth working day before the due's day (a due at 00:00 — the first
    late instant — is reminded at the start of its last working day, for one day)."""
    at = _dt(due)
    if limit.unit == LimitUnit.hours:
        return _us(at - timedelta(hours=limit.amount))
    local = at.astimezone(SHANGHAI)
    day, counted = local.date(), 0
    while counted < limit.amount:
        day -= timedelta(days=1)
        working = calendar.is_working_day(day)
        if working if working is not None else day.weekday() < 5:
            counted += 1
    return _us(datetime.combine(day, local.timetz()))


def after(due: int, limit: LimitSpec, calendar: WorkingCalendar) -> int:
    """µs: ``limit`` after a due time. N working days are counted as the calendar counts a
    time limit (``shared.calendar.due_at``) from the last instant still in time, so the day
    the deadline passed on is the first one counted."""
    spec = TimeLimit(amount=limit.amount, unit=LimitUnit(limit.unit))
    start = _dt(due) if spec.unit is LimitUnit.hours else _dt(due) - _US
    return _us(due_at(start, spec, calendar).at)


class Step(NamedTuple):
    """One step still to take on a case: which, on whose deadline, and when it comes."""

    stream: str
    step: LadderStep
    unit: str
    deadline: int  # the lead's due time (µs)
    due: int  # when the step comes: its threshold (µs)

    @property
    def event_id(self) -> str:
        """Same deadline and step, same id, in every process and after every restart."""
        return derived_event_id(f"{self.stream}|{self.unit}|{self.deadline}|{self.step}", RULE)


def pending_of(stream: str, domain: Any, ladder: Ladder) -> frozenset[Step]:
    """The ladder steps of one case still to take, from its state (at most one at a time)."""
    if not isinstance(domain, CaseState) or domain.status not in _CLOCKS_RUN:
        return frozenset()
    s = domain
    lead = next((c for c in s.clocks if c.lead), None)
    if lead is None or lead.completed or lead.deemed_done:
        return frozenset()
    unit, due, t = lead.unit, lead.due, ladder.thresholds
    if (unit, due) not in s.timers:
        if t is None or s.on_ladder(unit, due, LadderStep.reminder):
            return frozenset()
        remind_at = ahead_of(due, t.content.remind_before, ladder.calendar)
        return frozenset({Step(stream, LadderStep.reminder, unit, due, remind_at)})
    if not s.on_ladder(unit, due, LadderStep.order):
        return frozenset({Step(stream, LadderStep.order, unit, due, due)})
    if t is None or s.on_ladder(unit, due, LadderStep.listed):
        return frozenset()
    listed_at = after(due, t.content.list_after, ladder.calendar)
    return frozenset({Step(stream, LadderStep.listed, unit, due, listed_at)})


def draft(step: Step, s: CaseState, ladder: Ladder) -> Draft | None:
    """The event of one step against the case now (None: nothing to write — the top level
    reached), its notice naming the case, the unit, the due time and the step."""
    lead = s.clock(step.unit)
    assert lead is not None
    t = ladder.thresholds
    threshold = None
    if t is not None:
        threshold = {
            LadderStep.reminder: t.content.remind_before,
            LadderStep.listed: t.content.list_after,
        }.get(step.step)
    text = notice_text(
        step.step,
        case_no=s.complaints[0][0] if s.complaints else None,
        stream=step.stream,
        unit_name=ladder.unit_names.get(step.unit, step.unit),
        due_at=lead.due_at,
        threshold=threshold,
    )
    data: dict[str, Any] = {
        "unit": step.unit,
        "due_at": lead.due_at,
        "threshold_at": timestamp(step.due),
        "thresholds": ladder.label,
        "notice": text,
    }
    if step.step == LadderStep.reminder:
        return Draft(REMINDED, data, TIMER_ACTOR, id=step.event_id)
    if s.escalation >= TOP_LEVEL:
        return None
    cause = (
        Deadline(step.stream, "handling", step.unit, step.deadline).event_id  # its timer
        if step.step == LadderStep.order
        else step._replace(step=LadderStep.order).event_id  # its 督办单
    )
    data.update(level=s.escalation + 1, reason=REASONS[step.step], cause=cause, step=str(step.step))
    return Draft(ESCALATED, data, TIMER_ACTOR, id=step.event_id)


def fire(steps: Sequence[Step], ladder: Ladder, now: int) -> Decide:
    """The scheduler's decision for steps of one case, against its state at the head: the
    event of each still pending there and come by ``now`` (µs) — none for a step another
    process took, or that a claim, an extension or a closure made moot; no reminder once the
    due time itself has come (the 督办单 follows instead)."""

    def decide(state: StreamState) -> list[Draft]:
        s = state.domain
        if not isinstance(s, CaseState):
            return []
        still = pending_of(state.stream, s, ladder)
        out: list[Draft] = []
        for step in steps:
            if step not in still or step.due > now or step.event_id in state.seen_ids:
                continue
            if step.step == LadderStep.reminder and now >= step.deadline:
                continue
            d = draft(step, s, ladder)
            if d is not None:
                out.append(d)
        return out

    return decide
