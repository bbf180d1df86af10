"""Oversight's API: HTTP in, commands out — the unit workbench (sign for, reply, claim
resolution: oversight signs for the unit and names it), the supervisor's closure with a finding,
and the supervision dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import Response

from services.oversight import commands
from services.oversight.closing import answer_due_in_force
from services.oversight.projection import OVERSIGHT_CASES
from shared.events.catalog import ClosureBasis, Finding
from shared.readside.projections.case_summary import CASES
from shared.rules.act import UNIT_PREFIX
from shared.store.port import ASC, DESC, DocumentStore
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import VALIDATION, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

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


# -- the unit workbench --------------------------------------------------------------------------


@router.post(
    "/workbench/cases/{case_id}/acknowledgement",
    status_code=201,
    summary="签收: the unit signs for the case (the clock runs from assignment regardless)",
)
async def acknowledge(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    operator: Operator = Depends(command(Role.UNIT_HANDLER)),
) -> CommandAnswer:
    unit = unit_of(operator)
    return await ledger.run(
        case_id, lambda st: commands.acknowledge(st, unit, unit_actor(operator))
    )


@router.post(
    "/workbench/cases/{case_id}/replies",
    status_code=201,
    summary="答复: the unit's reply",
)
async def reply(
    case_id: CaseIdPath,
    body: commands.Reply,
    ledger: LedgerDep,
    operator: Operator = Depends(command(Role.UNIT_HANDLER)),
) -> CommandAnswer:
    unit = unit_of(operator)
    return await ledger.run(
        case_id, lambda st: commands.reply(st, unit, body, unit_actor(operator))
    )


@router.post(
    "/workbench/cases/{case_id}/resolution-claim",
    status_code=201,
    summary="报办结: the unit claims resolution; the complainant is asked (回访)",
)
async def claim_resolution(
    request: Request,
    case_id: CaseIdPath,
    body: commands.ClaimResolution,
    ledger: LedgerDep,
    operator: Operator = Depends(command(Role.UNIT_HANDLER)),
) -> CommandAnswer:
    return await _claim(request, case_id, body, ledger, operator)


async def _claim(
    request: Request,
    case_id: str,
    body: commands.ClaimResolution,
    ledger: Ledger,
    operator: Operator,
) -> CommandAnswer:
    unit = unit_of(operator)
    answer = await answer_due_in_force(request, datetime.now(UTC))  # 回访, as configured
    return await ledger.run(
        case_id,
        lambda st: commands.claim_resolution(
            st, unit, body, unit_actor(operator), answer.at.isoformat()
        ),
    )


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

WorkbenchAct = Literal["acknowledgement", "replies", "resolution-claim", "return-request"]


@router.post("/workbench/{case_id}/{act}", include_in_schema=False)
async def workbench_act(
    request: Request,
    case_id: CaseIdPath,
    act: Annotated[WorkbenchAct, Path()],
    ledger: LedgerDep,
    text: Annotated[str, Form(max_length=20_000)] = "",
    operator: Operator = Depends(page_command(Role.UNIT_HANDLER)),
) -> Response:
    unit, actor = unit_of(operator), unit_actor(operator)
    if act != "acknowledgement" and not text.strip():
        raise ProblemError(VALIDATION, "请填写答复或办结情况")
    if act == "acknowledgement":
        answer = await ledger.run(case_id, lambda st: commands.acknowledge(st, unit, actor))
    elif act == "replies":
        reply_body = commands.Reply(text=text)
        answer = await ledger.run(case_id, lambda st: commands.reply(st, unit, reply_body, actor))
    elif act == "return-request":
        if len(text) > 500:
            raise ProblemError(VALIDATION, "退单理由不超过500字")
        answer = await _request_return(
            case_id, commands.RequestReturn(reason=text), ledger, operator
        )
    else:
        claim = commands.ClaimResolution(summary=text)
        answer = await _claim(request, case_id, claim, ledger, operator)
    return back_to("/workbench", answer.position)


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


# -- pages ---------------------------------------------------------------------------------------


async def _joined(store: DocumentStore, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    facts = await store.get_many(OVERSIGHT_CASES, [c["_id"] for c in cases])
    return [{"case_id": c["_id"], "case": c, **facts.get(str(c["_id"]), {})} for c in cases]


@router.get("/workbench", include_in_schema=False)
async def workbench(
    request: Request,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.UNIT_HANDLER)),
) -> Response:
    """承办工作台: the cases this unit leads, by due time, with what it has done on each."""
    store = await read_store(request)
    unit = unit_of(operator)
    mine = await store.find(
        CASES, {"lead_unit": unit, "status": {"$in": WORKING}}, sort=[("due_at", ASC)], limit=100
    )
    done = await store.find(
        CASES,
        {"lead_unit": unit, "status": {"$in": ["resolved", "closed"]}},
        sort=[("last_at", DESC)],
        limit=20,
    )
    return get_context(request).pages.render(
        request,
        "oversight_workbench.html",
        {
            "unit": unit,
            "rows": await _joined(store, mine),
            "done": await _joined(store, done),
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


# -- 退单: the unit asks to return its assignment; a dispatch officer rules (dispatch) ----------


@router.post(
    "/workbench/cases/{case_id}/return-request",
    status_code=201,
    summary="退单申请: the unit asks to return the case, with a reason; its clock keeps running",
)
async def request_return(
    case_id: CaseIdPath,
    body: commands.RequestReturn,
    ledger: LedgerDep,
    operator: Operator = Depends(command(Role.UNIT_HANDLER)),
) -> CommandAnswer:
    return await _request_return(case_id, body, ledger, operator)


async def _request_return(
    case_id: str, body: commands.RequestReturn, ledger: Ledger, operator: Operator
) -> CommandAnswer:
    unit = unit_of(operator)
    return await ledger.run(
        case_id, lambda st: commands.request_return(st, unit, body, unit_actor(operator))
    )
