"""Extensions (延期): a supervisor grants a unit's pending request, with a new due time, or
refuses it; the complainant is told either way.

The new due time is counted in working days from the unit's current due time on the calendar
in force, and may not pass what ``extension_at_most`` of the time limits in force allows from
there (both published configuration). The ruling's own text (``ruling``) is the supervisor's,
for the unit; what the complainant is sent is worded from the ruling's structured fields
(``complainant_notices.extension_notice``) and carried in the event, so intake's delivery
worker turns it into a delivery without wording anything itself.

``rule`` is pure (``decide(state, command)``); the route reads the configuration in force.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.oversight.complainant_notices import EXTENSION_RULED, extension_notice
from shared.calendar import TimeLimit, WorkingCalendar, due_at
from shared.events.catalog import ConfigKind, OrgId, TimeLimits
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED
from shared.rules.stream import StreamState
from shared.time_limits import as_time_limit
from shared.web import Role
from shared.web.calendar_in_force import calendar_in_force
from shared.web.command_path import CommandAnswer, LedgerDep, Refusal, known_case
from shared.web.config_in_force import InForce, in_force
from shared.web.idempotency import command
from shared.web.service_read_model import CaseIdPath

router = APIRouter(tags=["oversight"])


class RuleExtension(BaseModel):
    """The supervisor's ruling on one unit's pending extension request."""

    model_config = ConfigDict(extra="forbid")

    unit: OrgId
    granted: bool
    working_days: Annotated[int, Field(ge=1, le=60)] | None = Field(
        None, description="granted: working days added to the unit's current due time"
    )
    ruling: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the reasons, for the unit (never sent to the complainant)"
    )

    @model_validator(mode="after")
    def _days_when_granted(self) -> RuleExtension:
        if self.granted != (self.working_days is not None):
            raise ValueError("a granted extension names its working days; a refusal none")
        return self


def rule(
    state: StreamState,
    cmd: RuleExtension,
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
    data: dict[str, Any] = {"unit": cmd.unit, "granted": cmd.granted, "ruling": cmd.ruling}
    if cmd.working_days is None:
        data["complainant_notice"] = extension_notice(False, clock.due_at)
        return [Draft(EXTENSION_RULED, data, actor)]
    current = datetime.fromisoformat(clock.due_at)
    new = due_at(current, TimeLimit(amount=cmd.working_days), calendar)
    most = due_at(current, as_time_limit(limits.extension_at_most), calendar)
    if new.at > most.at:
        raise Refusal("extension_too_long", "延长的期限超过办理时限规定的最长延期")
    due = new.at.isoformat()
    data.update(due_at=due, complainant_notice=extension_notice(True, due))
    return [Draft(EXTENSION_RULED, data, actor)]


@router.post(
    "/cases/{case_id}/extension-ruling",
    status_code=201,
    summary="延期审批: grant a unit's extension (working days from its due time) or refuse it; "
    "the complainant is told either way",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def rule_extension(
    request: Request, case_id: CaseIdPath, body: RuleExtension, ledger: LedgerDep
) -> CommandAnswer:
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    calendar = await calendar_in_force(request)
    return await ledger.run(
        case_id, lambda st: rule(st, body, ledger.actor, limits.content, calendar)
    )
