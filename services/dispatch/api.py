"""Dispatch's API: HTTP in, commands out — assignment to a lead unit with a due time. The
dispatch board is ``board.py``; rulings on returns are ``return_rulings.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.responses import Response

from services.dispatch import commands
from shared.calendar import StatutoryCalendar, TimeLimit, due_at
from shared.events.catalog import Urgency
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, page_command
from shared.web.pages import NavItem
from shared.web.service_read_model import CaseIdPath

DUTIES = (
    "按转办规则直接交办或并联交办，写明办结时限（限时办结）",
    "受理退单申请并作出裁定，裁定前承办单位时限照常计算（首接负责）",
    "召集联席会议，记录各成员意见，缺席视为同意（缺席默认）",
)

NAV = (NavItem("转办台", "/board"),)

router = APIRouter(tags=["dispatch"])
home = demo_router("dispatch", Role.DISPATCH_OFFICER, DUTIES)


@cache
def calendar() -> StatutoryCalendar:
    return StatutoryCalendar()


@router.post(
    "/cases/{case_id}/assignment",
    status_code=201,
    summary="Assign a screened case to its lead unit (直接交办), due N working days on",
    dependencies=[Depends(command(Role.DISPATCH_OFFICER))],
)
async def assign_case(
    case_id: CaseIdPath, body: commands.AssignCase, ledger: LedgerDep
) -> CommandAnswer:
    return await _assign(case_id, body, ledger)


async def _assign(case_id: str, body: commands.AssignCase, ledger: Ledger) -> CommandAnswer:
    # The clock starts at assignment: the due time is computed once, here, and recorded.
    due = due_at(datetime.now(UTC), TimeLimit(amount=body.working_days), calendar())
    return await ledger.run(case_id, lambda st: commands.assign(st, body, ledger.actor, due))


@router.post("/board/{case_id}/assignment", include_in_schema=False)
async def assign_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    lead_unit: Annotated[str, Form(pattern=r"^unit:[a-z0-9._-]{1,75}$")],
    working_days: Annotated[int, Form(ge=1, le=60)],
    urgency: Annotated[Urgency, Form()] = Urgency.normal,
    operator: Operator = Depends(page_command(Role.DISPATCH_OFFICER)),
) -> Response:
    body = commands.AssignCase(lead_unit=lead_unit, working_days=working_days, urgency=urgency)
    answer = await _assign(case_id, body, ledger)
    return back_to("/board", answer.position)
