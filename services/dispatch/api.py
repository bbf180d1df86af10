"""Dispatch's API: HTTP in, commands out — assignment straight to the unit that acts, as the
routing in force proposes or overridden with a reason, each unit with its due time. The
dispatch board is ``board.py``; rulings on returns are ``return_rulings.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.dispatch import commands
from services.dispatch.routing_api import assignment_basis
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


@router.post(
    "/cases/{case_id}/assignment",
    status_code=201,
    summary="Assign a screened case straight to the unit that acts (直接交办), as the routing in "
    "force proposes or overridden with a reason; each unit gets its own due time",
    dependencies=[Depends(command(Role.DISPATCH_OFFICER))],
)
async def assign_case(
    request: Request, case_id: CaseIdPath, body: commands.AssignCase, ledger: LedgerDep
) -> CommandAnswer:
    return await _assign(request, case_id, body, ledger)


async def _assign(
    request: Request, case_id: str, body: commands.AssignCase, ledger: Ledger
) -> CommandAnswer:
    # The clock starts at assignment: the due times are counted once, from now, and recorded.
    basis = await assignment_basis(request, case_id, datetime.now(UTC))
    return await ledger.run(case_id, lambda st: commands.assign(st, body, ledger.actor, basis))


@router.post("/board/{case_id}/assignment", include_in_schema=False)
async def assign_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    lead_unit: Annotated[str | None, Form(pattern=r"^(unit:[a-z0-9._-]{1,75})?$")] = None,
    working_days: Annotated[int | None, Form(ge=1, le=60)] = None,
    urgency: Annotated[Urgency, Form()] = Urgency.normal,
    override_reason: Annotated[str | None, Form(max_length=500)] = None,
    operator: Operator = Depends(page_command(Role.DISPATCH_OFFICER)),
) -> Response:
    body = commands.AssignCase(
        lead_unit=lead_unit or None,
        working_days=working_days,
        urgency=urgency,
        override_reason=(override_reason or "").strip() or None,
    )
    answer = await _assign(request, case_id, body, ledger)
    return back_to("/board", answer.position)
