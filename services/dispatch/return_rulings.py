"""The routes of 退单裁定: only a dispatch officer rules on a unit's return (API and board
form). The decision is ``returns.py``'s; granting the lead's return assigns the case straight
to the next lead, whose due time is computed here, once, from the ruling's time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from services.dispatch import returns
from services.dispatch.routing_api import calendar_in_force
from shared.calendar import TimeLimit, due_at
from shared.events.catalog import Urgency
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, page_command
from shared.web.problems import VALIDATION, ProblemError
from shared.web.service_read_model import CaseIdPath

router = APIRouter(tags=["dispatch"])


@router.post(
    "/cases/{case_id}/return-ruling",
    status_code=201,
    summary="退单裁定: grant (and assign straight to the next lead) or refuse a unit's return",
    dependencies=[Depends(command(Role.DISPATCH_OFFICER))],
)
async def rule_return(
    request: Request, case_id: CaseIdPath, body: returns.RuleReturn, ledger: LedgerDep
) -> CommandAnswer:
    return await _rule(request, case_id, body, ledger)


async def _rule(
    request: Request, case_id: str, body: returns.RuleReturn, ledger: Ledger
) -> CommandAnswer:
    due = None
    if body.working_days is not None:  # the next lead's clock starts at this ruling
        calendar = await calendar_in_force(request)  # the version in force, as assignments use
        due = due_at(datetime.now(UTC), TimeLimit(amount=body.working_days), calendar)
    return await ledger.run(case_id, lambda st: returns.rule_return(st, body, ledger.actor, due))


@router.post("/board/{case_id}/return-ruling", include_in_schema=False)
async def rule_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    unit: Annotated[str, Form(pattern=r"^unit:[a-z0-9._-]{1,75}$")],
    decision: Annotated[Literal["grant", "refuse"], Form()],
    ruling: Annotated[str, Form(min_length=1, max_length=500)],
    next_lead: Annotated[str, Form(max_length=80)] = "",
    working_days: Annotated[int | None, Form(ge=1, le=60)] = None,
    urgency: Annotated[Urgency, Form()] = Urgency.normal,
    operator: Operator = Depends(page_command(Role.DISPATCH_OFFICER)),
) -> Response:
    granted = decision == "grant"
    try:
        body = returns.RuleReturn(
            unit=unit,
            granted=granted,
            ruling=ruling,
            next_lead=(next_lead or None) if granted else None,
            working_days=working_days if granted and next_lead else None,
            urgency=urgency,
        )
    except ValidationError:
        raise ProblemError(VALIDATION, "请写明下一个牵头单位（unit:…）及其办结时限") from None
    answer = await _rule(request, case_id, body, ledger)
    return back_to(f"/board/cases/{case_id}", answer.position)  # its path, with the ruling
