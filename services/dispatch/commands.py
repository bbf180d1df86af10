"""Dispatch's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

What a decision needs from outside the stream — the routing and time limits in force, the
calendar, the assignment's instant, the case's category — is read by the caller and handed in
(:class:`AssignmentBasis`): the decision proposes the route (``routing.py``), takes the
officer's choice, counts each unit's due time once (``time_limits.py``) and records all of it
with the versions used; replay never recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from services.dispatch import time_limits
from services.dispatch.routing import RouteIndex
from shared.calendar import WorkingCalendar
from shared.events.catalog import ANY_CATEGORY, LimitSpec, ProposedRoute, TimeLimits, Urgency
from shared.ledger.signer import Draft
from shared.rules.case import RECEIVED, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case
from shared.web.wire import _int_only as int_only

ASSIGNED = "ledger.dispatch.assigned.v1"
DUE_CONFIRMED = "ledger.dispatch.due_confirmed.v1"

UnitId = Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$", description="unit:<id>")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class AssignCase(BaseModel):
    """直接交办 as proposed, or with the officer's own choice of units or limit (an override,
    which states its reason)."""

    model_config = ConfigDict(extra="forbid")

    lead_unit: UnitId | None = Field(None, description="None: the lead unit proposed")
    co_units: Annotated[list[UnitId], Field(max_length=10)] | None = Field(
        None, description="None: the co-units proposed (for the proposed lead), else none"
    )
    # The bounds before the validator: after it, pydantic writes them as ge/le in the schema.
    working_days: Annotated[int, Field(ge=1, le=60), BeforeValidator(int_only)] | None = Field(
        None,
        description="An explicit limit in working days of the statutory calendar, from the day "
        "after the assignment (None: the time limits in force for the category and urgency)",
    )
    urgency: Urgency = Urgency.normal
    override_reason: Reason | None = Field(
        None, description="Why the units or the limit depart from the proposal (required then)"
    )
    instructions: Annotated[str, Field(max_length=500)] = ""


@dataclass(frozen=True)
class AssignmentBasis:
    """What an assignment is decided from, read by the caller: the versions in force (indexed
    routing, time limits, calendar), the case's category and the assignment's instant."""

    routing_version: str
    routes: RouteIndex
    time_limits_version: str
    limits: TimeLimits
    calendar: WorkingCalendar
    category: str | None
    start: datetime


def proposal(case: CaseState, basis: AssignmentBasis, urgency: Urgency) -> ProposedRoute:
    """The route and limit dispatch proposes for the case."""
    category = basis.category or ANY_CATEGORY
    route = basis.routes.propose(category, case.unit or "")
    return ProposedRoute(
        entry=route.entry,
        category=category,
        lead=route.lead,
        co_units=list(route.co_units),
        handle_within=time_limits.limit_for(basis.limits, category, urgency),
    )


def assign(state: StreamState, cmd: AssignCase, actor: str, basis: AssignmentBasis) -> list[Draft]:
    """Assign the case straight to the unit that acts, each unit with its own due time."""
    case = known_case(state)
    if not case.screened:
        raise Refusal("unscreened", "该件尚未完成甄别，不能转办")
    if case.status != RECEIVED:
        raise Refusal("wrong_state", "该件已在办理中或已结束，不能再次转办")
    proposed = proposal(case, basis, cmd.urgency)
    lead = cmd.lead_unit or proposed.lead
    if lead is None:
        raise Refusal("no_route", "转办规则中没有适用于该件的条目，请指定牵头单位并说明理由")
    if cmd.co_units is not None:
        co_units = list(dict.fromkeys(cmd.co_units))
    else:
        co_units = list(proposed.co_units) if lead == proposed.lead else []
    co_units = [u for u in co_units if u != lead]
    limit = (
        LimitSpec(amount=cmd.working_days, unit="working_days")
        if cmd.working_days is not None
        else proposed.handle_within
    )
    departs = (
        lead != proposed.lead
        or set(co_units) != set(proposed.co_units)
        or limit != proposed.handle_within
    )
    if departs and cmd.override_reason is None:
        raise Refusal("override_needs_reason", "改变建议的承办单位或时限，须写明理由")
    due = time_limits.dues(basis.start, limit, basis.calendar, [lead, *co_units])
    data: dict[str, object] = {
        "lead_unit": lead,
        "due_at": due[lead].at.isoformat(),
        "provisional": due[lead].provisional,
        "co_units": [
            {"unit": u, "due_at": due[u].at.isoformat(), "provisional": due[u].provisional}
            for u in co_units
        ],
        "calendar_version": due[lead].calendar_version,
        "urgency": cmd.urgency,
        "direct": True,
        "instructions": cmd.instructions,
        "routing_version": basis.routing_version,
        "time_limits_version": basis.time_limits_version,
        "proposed": proposed.model_dump(mode="json"),
        "handle_within": limit.model_dump(mode="json"),
        "counted_from": basis.start.isoformat(),
    }
    if departs:
        data["override_reason"] = cmd.override_reason
    return [Draft(ASSIGNED, data, actor)]


class ConfirmDue(BaseModel):
    """An officer confirms one provisional due as a newer calendar counts it (as listed)."""

    model_config = ConfigDict(extra="forbid")

    unit: UnitId
    previous_due_at: AwareDatetime = Field(description="the provisional due time, as listed")
    due_at: AwareDatetime = Field(description="the due under the calendar in force, as listed")


def confirm_due(
    state: StreamState,
    cmd: ConfirmDue,
    actor: str,
    revised_at: datetime,
    provisional: bool,
    calendar_version: str,
) -> list[Draft]:
    """Move (or only settle) a unit's provisional due to what the calendar in force counts;
    refused if the listing the officer confirmed is no longer what it would be now."""
    case = known_case(state)
    clock = case.clock(cmd.unit)
    if clock is None:
        raise Refusal("not_assigned", "该单位不在此件的承办单位中")
    if not clock.provisional:
        raise Refusal("not_provisional", "该单位的办结时限不是暂定时限")
    if cmd.previous_due_at != datetime.fromisoformat(clock.due_at):
        raise Refusal("stale_due", "该单位的时限已变化，请刷新待确认列表")
    if cmd.due_at != revised_at:
        raise Refusal("stale_due", "按现行日历重新计算的时限与所确认的不同，请刷新待确认列表")
    data = {
        "unit": cmd.unit,
        "previous_due_at": clock.due_at,
        "due_at": revised_at.isoformat(),
        "provisional": provisional,
        "calendar_version": calendar_version,
    }
    return [Draft(DUE_CONFIRMED, data, actor)]
