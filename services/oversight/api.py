"""Oversight's API: HTTP in, commands out — the supervisor's closure with a finding, and the
supervision dashboard. The unit workbench has its own router (``workbench.py``); the helpers
naming a unit and its officer are here, for both."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.oversight import commands
from services.oversight.projection import OVERSIGHT_CASES
from shared.calendar import StatutoryCalendar
from shared.events.catalog import ClosureBasis, Finding
from shared.readside.projections.case_summary import (
    CASES,
    overdue_open_by_unit,
    status_counts,
)
from shared.rules.act import UNIT_PREFIX
from shared.store.port import ASC, DocumentStore
from shared.web import Role
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
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

ANSWER_WORKING_DAYS = 5  # 回访: how long the complainant is asked after a claim
WORKING = ["assigned", "claimed", "disputed"]
OPEN = ["received", *WORKING]


@cache
def calendar() -> StatutoryCalendar:
    return StatutoryCalendar()


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


# -- pages ---------------------------------------------------------------------------------------


async def _joined(store: DocumentStore, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    facts = await store.get_many(OVERSIGHT_CASES, [c["_id"] for c in cases])
    return [{"case_id": c["_id"], "case": c, **facts.get(str(c["_id"]), {})} for c in cases]


STATUS_ORDER = ("received", "assigned", "claimed", "disputed", "resolved", "closed", "merged")


@router.get("/dashboard", include_in_schema=False)
async def dashboard(
    request: Request,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.SUPERVISOR)),
) -> Response:
    """督办总览: cases by state, the units with overdue cases, what awaits a supervisor."""
    store = await read_store(request)
    counts = await status_counts(store)
    overdue_units = sorted(
        ((str(u), n) for u, n in (await overdue_open_by_unit(store)).items()),
        key=lambda un: (-un[1], un[0]),
    )
    overdue = await store.find(
        CASES, {"overdue": True, "status": {"$in": OPEN}}, sort=[("due_at", ASC)], limit=100
    )
    awaiting = await store.find(
        CASES, {"status": {"$in": ["claimed", "resolved"]}}, sort=[("last_at", ASC)], limit=100
    )
    return get_context(request).pages.render(
        request,
        "oversight_dashboard.html",
        {
            "counts": [(s, counts.get(s, 0)) for s in STATUS_ORDER],
            "total": sum(counts.values()),
            "overdue_units": overdue_units,
            "overdue": await _joined(store, overdue),
            "awaiting": await _joined(store, awaiting),
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )
