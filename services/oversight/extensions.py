"""Extensions (延期): a supervisor grants a unit's pending request, with a new due time, or
refuses it; the complainant is told either way.

The new due time is counted in working days after the unit's last day (its due time is the
first late instant) on the calendar in force, and may not pass what ``extension_at_most`` of
the time limits in force allows from there (both published configuration). The ruling's own
text (``ruling``) is the supervisor's, for the unit; what the complainant is sent is worded from
the ruling's structured fields (``complainant_notices.extension_notice``) and carried in the
event, so intake's delivery worker turns it into a delivery without wording anything itself.

``rule`` is pure (``decide(state, command)``); the route reads the configuration in force.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.oversight.complainant_notices import EXTENSION_RULED, extension_notice
from shared.calendar import TimeLimit, WorkingCalendar, due_at
from shared.events.catalog import ConfigKind, OrgId, TimeLimits
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED
from shared.rules.stream import StreamState
from shared.time_limits import as_time_limit
from shared.web import Role
from shared.web.calendar_in_force import calendar_in_force
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal, known_case
from shared.web.config_in_force import InForce, in_force
from shared.web.idempotency import command
from shared.web.service_read_model import CaseIdPath

router = APIRouter(tags=["oversight"])


class GrantExtension(BaseModel):
    """The supervisor grants one unit's pending extension request."""

    model_config = ConfigDict(extra="forbid")

    unit: OrgId
    working_days: Annotated[int, Field(ge=1, le=60)] = Field(
        description="working days added to the unit's current due time"
    )
    ruling: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the reasons, for the unit (never sent to the complainant)"
    )


class RefuseExtension(BaseModel):
    """The supervisor refuses one unit's pending extension request."""

    model_config = ConfigDict(extra="forbid")

    unit: OrgId
    ruling: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the reasons, for the unit (never sent to the complainant)"
    )


def rule(
    state: StreamState,
    cmd: GrantExtension | RefuseExtension,
    actor: str,
    limits: TimeLimits,
    calendar: WorkingCalendar,
) -> list[Draft]:
    """延期审批: the ruling on the unit's pending request, and what the complainant is told."""
    case = known_case(state)
    clock = case.clock(cmd.unit)
    if clock is None:
        raise Refusal("not_assigned", "该单位不是该件的承办单位")
    if cmd.unit not in case.extensions_pending:
        raise Refusal("no_extension_pending", "该单位没有待审批的延期申请")
    if case.status != ASSIGNED:
        raise Refusal("wrong_state", "该件当前不在办理中")
    granted = isinstance(cmd, GrantExtension)
    data: dict[str, Any] = {"unit": cmd.unit, "granted": granted, "ruling": cmd.ruling}
    if not isinstance(cmd, GrantExtension):
        data["complainant_notice"] = extension_notice(False, clock.due_at)
        return [Draft(EXTENSION_RULED, data, actor)]
    # The due time is the first late instant: the days are added after the unit's last day.
    current = datetime.fromisoformat(clock.due_at) - timedelta(microseconds=1)
    new = due_at(current, TimeLimit(amount=cmd.working_days), calendar)
    most = due_at(current, as_time_limit(limits.extension_at_most), calendar)
    if new.at > most.at:
        raise Refusal("extension_too_long", "延长的期限超过办理时限规定的最长延期")
    due = new.at.isoformat()
    data.update(due_at=due, complainant_notice=extension_notice(True, due))
    return [Draft(EXTENSION_RULED, data, actor)]


async def rule_in_force(
    request: Request, case_id: str, body: GrantExtension | RefuseExtension, ledger: Ledger
) -> CommandAnswer:
    """:func:`rule` on the time limits and calendar in force (the API's and the case page's
    form's way in)."""
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    calendar = await calendar_in_force(request)
    return await ledger.run(
        case_id, lambda st: rule(st, body, ledger.actor, limits.content, calendar)
    )


@router.post(
    "/cases/{case_id}/extension-grant",
    status_code=201,
    summary="延期批准: grant a unit's pending extension, in working days from its due time (at "
    "most the time limits' extension_at_most); the complainant is told",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def grant_extension(
    request: Request, case_id: CaseIdPath, body: GrantExtension, ledger: LedgerDep
) -> CommandAnswer:
    return await rule_in_force(request, case_id, body, ledger)


@router.post(
    "/cases/{case_id}/extension-refusal",
    status_code=201,
    summary="延期不予批准: refuse a unit's pending extension; the complainant is told",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def refuse_extension(
    request: Request, case_id: CaseIdPath, body: RefuseExtension, ledger: LedgerDep
) -> CommandAnswer:
    return await rule_in_force(request, case_id, body, ledger)
