"""Oversight's API: HTTP in, commands out — the supervisor's closure with a finding (by API and
from the dashboard's form). The dashboard (``dashboard.py``) and the unit workbench
(``workbench.py``) have their own routers; the functions naming a unit and its officer are
here, for all of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.responses import Response

from services.oversight import commands
from shared.events.catalog import ClosureBasis, Finding
from shared.rules.act import UNIT_PREFIX
from shared.web import Role
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, page_command
from shared.web.pages import NavItem
from shared.web.service_read_model import CaseIdPath

DUTIES = (
    "为每件投诉计时，超时即视为办结并由承办单位担责（超时默认）",
    "逐级督办与挂牌督办，直至办结",
    "承办单位工作台：签收、答复、进展、申请延期",
    "暗访、问责与效能考核，统计回复率、解决率、满意率",
)

NAV = (NavItem("承办工作台", "/workbench"), NavItem("督办总览", "/dashboard"))

router = APIRouter(tags=["oversight"])
home = demo_router("oversight", Role.SUPERVISOR, DUTIES)

WORKING = ["assigned", "claimed", "disputed"]
OPEN = ["received", *WORKING]


def unit_of(operator: Operator) -> str:
    """The unit a unit handler acts for, as the log names units (``unit:<id>``)."""
    body = operator.body
    return body if body.startswith(UNIT_PREFIX) else UNIT_PREFIX + body


def unit_actor(operator: Operator) -> str:
    return f"{unit_of(operator)}/{operator.staff_id}"


# -- the supervisor ------------------------------------------------------------------------------


@router.post(
    "/cases/{case_id}/closure",
    status_code=201,
    summary="办结: the supervisor closes the case with a finding, on a recorded basis",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def close_case(
    case_id: CaseIdPath, body: commands.CloseCase, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: commands.close(st, body, ledger.actor))


# -- the same steps from the pages' forms ------------------------------------------------------


@router.post("/dashboard/{case_id}/closure", include_in_schema=False)
async def close_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    basis: Annotated[ClosureBasis, Form()],
    finding: Annotated[Finding, Form()],
    confidential: Annotated[bool, Form()] = False,
    operator: Operator = Depends(page_command(Role.SUPERVISOR)),
) -> Response:
    body = commands.CloseCase(basis=basis, finding=finding, confidential=confidential)
    answer = await ledger.run(case_id, lambda st: commands.close(st, body, ledger.actor))
    return back_to("/dashboard", answer.position)
