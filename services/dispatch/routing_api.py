"""Routing's endpoints and pages (dispatch officers only): what an assignment is decided from,
the route lookup (which unit would this case go to), the configuration in force and its
versions (the page 转办规则与办理时限), and the provisional due times a newer calendar would
change, for an officer to confirm (never silently).

- ``GET /routing/proposal?category=…&unit=…[&urgency=…]`` — the route and limit proposed.
- ``GET /routing`` — the page: routing and time limits in force, their versions, the lookup.
- ``GET /provisional-dues`` — the provisional dues the calendar in force would change.
- ``POST /cases/{case}/due-confirmation`` — confirm one of them (``dispatch.due_confirmed``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import AwareDatetime, BaseModel
from starlette.responses import Response

from services.dispatch import commands, provisional
from services.dispatch.calendars import shelf
from services.dispatch.projection import DISPATCH_CASES
from services.dispatch.routing import RouteIndex, RouteIndexes, unit_id
from services.dispatch.time_limits import limit_for
from shared.calendar import WorkingCalendar
from shared.events.catalog import (
    CalendarVersion,
    ConfigKind,
    LimitSpec,
    Routing,
    TimeLimits,
    UnitDirectory,
    Urgency,
)
from shared.ledger.configuration import registry_records, versions
from shared.ledger.signer import Draft
from shared.readside.projections.case_summary import CASES
from shared.rules.stream import StreamState
from shared.store.port import Doc
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.calendar_in_force import calendar_in_force
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal
from shared.web.config_in_force import InForce, in_force, typed_at
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

NAV = (NavItem("转办规则与时限", "/routing"),)
OFFICER = Role.DISPATCH_OFFICER
RUNNING = ("assigned", "claimed", "disputed")
PAGE = 50  # catalogue entries per page

router = APIRouter(tags=["dispatch"])
_indexes = RouteIndexes()

Category = Annotated[str, Query(min_length=1, max_length=60)]
Respondent = Annotated[str, Query(pattern=r"^[a-z0-9:._-]{1,80}$")]


# ---- what an assignment is decided from -----------------------------------------------------


async def _routes(request: Request) -> tuple[str, RouteIndex]:
    routing: InForce[Routing] = await in_force(request, ConfigKind.routing)
    units = await _units(request)
    index = _indexes.of(
        routing.label,
        routing.content,
        units.label if units else None,
        units.content if units else None,
    )
    return routing.label, index


async def _units(request: Request) -> InForce[UnitDirectory] | None:
    writer = get_context(request).writer
    assert writer is not None
    fold = await (await writer.writer()).registry()
    return typed_at(fold.registry, ConfigKind.unit_directory)


async def _category(request: Request, case_id: str) -> str | None:
    """The case's category as dispatch's read model holds it (it never changes after
    receipt); waits, bounded, for the projector to reach the log's head if it lacks the case."""
    store = await read_store(request)
    doc = await store.get(DISPATCH_CASES, case_id)
    if doc is None or doc.get("category") is None:
        ctx = get_context(request)
        if ctx.served is not None and ctx.writer is not None:
            head = await (await ctx.writer.writer()).log.head()
            await ctx.served.wait_for(head, ctx.settings.read_your_writes_seconds)
            doc = await store.get(DISPATCH_CASES, case_id)
    category = doc.get("category") if doc is not None else None
    return str(category) if category is not None else None


async def assignment_basis(
    request: Request, case_id: str, start: datetime
) -> commands.AssignmentBasis:
    routing_version, routes = await _routes(request)
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    return commands.AssignmentBasis(
        routing_version=routing_version,
        routes=routes,
        time_limits_version=limits.label,
        limits=limits.content,
        calendar=await calendar_in_force(request),
        category=await _category(request, case_id),
        start=start,
    )


# ---- the route lookup -----------------------------------------------------------------------


class Proposal(BaseModel):
    routing_version: str
    time_limits_version: str
    entry: str | None
    category: str
    unit: str
    level: str | None
    lead: str | None
    co_units: list[str]
    handle_within: LimitSpec


async def _proposal(request: Request, category: str, unit: str, urgency: Urgency) -> Proposal:
    routing_version, routes = await _routes(request)
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    route = routes.propose(category, unit)
    level = routes.level_of(unit)
    return Proposal(
        routing_version=routing_version,
        time_limits_version=limits.label,
        entry=route.entry,
        category=category,
        unit=unit_id(unit),
        level=level.value if level is not None else None,
        lead=route.lead,
        co_units=list(route.co_units),
        handle_within=limit_for(limits.content, category, urgency),
    )


@router.get(
    "/routing/proposal",
    response_model=Proposal,
    summary="Which unit a case of this category about this unit would go to (转办规则)",
)
async def route_lookup(
    request: Request,
    category: Category,
    unit: Respondent,
    urgency: Urgency = Urgency.normal,
    operator: Operator = Depends(require_roles(OFFICER)),
) -> Proposal:
    return await _proposal(request, category, unit, urgency)


# ---- the page: configuration in force, versions, lookup -------------------------------------


@router.get("/routing", include_in_schema=False)
async def routing_page(
    request: Request,
    fresh: FreshRead,
    category: Annotated[str | None, Query(max_length=60)] = None,
    unit: Annotated[str | None, Query(max_length=80)] = None,
    urgency: Urgency = Urgency.normal,
    q: Annotated[str | None, Query(max_length=60)] = None,
    p: Annotated[int, Query(ge=1, le=1000)] = 1,
    operator: Operator = Depends(page(OFFICER)),
) -> Response:
    """转办规则与办理时限: what is in force, its history, and a lookup form."""
    writer = get_context(request).writer
    assert writer is not None
    event_writer = await writer.writer()
    registry = (await event_writer.registry()).registry
    records = await registry_records(event_writer.log)
    kinds = (ConfigKind.routing, ConfigKind.time_limits, ConfigKind.calendar)
    history = {k.value: list(reversed(versions(registry, k, records))) for k in kinds}
    routing: InForce[Routing] | None = typed_at(registry, ConfigKind.routing)
    limits: InForce[TimeLimits] | None = typed_at(registry, ConfigKind.time_limits)
    named: InForce[CalendarVersion] | None = typed_at(registry, ConfigKind.calendar)
    looked_up: Proposal | None = None
    lookup_error = None
    if category and unit:
        if routing is None or limits is None:
            lookup_error = "尚未发布转办规则或办理时限"
        elif not _is_org(unit):
            lookup_error = "单位编码格式不正确"
        else:
            looked_up = await _proposal(request, category.strip(), unit, urgency)
    units: InForce[UnitDirectory] | None = typed_at(registry, ConfigKind.unit_directory)
    entries = routing.content.entries if routing is not None else []
    if q:
        entries = [e for e in entries if q.strip() in e.category]
    pages = max(1, -(-len(entries) // PAGE))
    shown = entries[(min(p, pages) - 1) * PAGE : min(p, pages) * PAGE]
    pending: list[provisional.Pending] = []
    if named is not None and shelf().named(named.content.version) is not None:
        _, pending = await _pending(request)
    return get_context(request).pages.render(
        request,
        "dispatch_routing.html",
        {
            "routing": routing,
            "limits": limits,
            "calendar": named,
            "calendar_installed": named is not None and shelf().named(named.content.version),
            "history": history,
            "looked_up": looked_up,
            "lookup_error": lookup_error,
            "query": {"category": category or "", "unit": unit or "", "urgency": urgency.value},
            "unit_names": {u.id: u.name for u in units.content.units} if units else {},
            "entries": shown,
            "matched": len(entries),
            "page": min(p, pages),
            "pages": pages,
            "q": q or "",
            "pending": pending,
            "form_key": new_form_key,
            "stale": fresh.gave_up,
        },
    )


def _is_org(unit: str) -> bool:
    return re.fullmatch(r"[a-z0-9:._-]{1,80}", unit) is not None


# ---- provisional dues and a newer calendar --------------------------------------------------


class PendingDue(BaseModel):
    case: str
    complaint_no: str | None
    unit: str
    previous_due_at: datetime
    previous_calendar: str
    due_at: datetime
    provisional: bool
    calendar_version: str
    moved: bool


async def _pending(request: Request) -> tuple[WorkingCalendar, list[provisional.Pending]]:
    calendar = await calendar_in_force(request)
    store = await read_store(request)
    docs = await store.find(DISPATCH_CASES, {"provisional": True}, limit=10_000)
    summaries = await store.get_many(CASES, [d["_id"] for d in docs])
    cases: list[tuple[Doc, list[str]]] = []
    for doc in docs:
        summary = summaries.get(str(doc["_id"]))
        if summary is None or summary.get("status") not in RUNNING:
            continue
        cases.append((doc, _running_units(summary)))
    return calendar, provisional.changes(cases, calendar)


def _running_units(summary: Doc) -> list[str]:
    units = [summary.get("lead_unit"), *summary.get("co_units", [])]
    done = set(summary.get("deemed_done", []))
    return [u for u in units if u and u not in done]


def _view(p: provisional.Pending) -> PendingDue:
    return PendingDue(
        case=p.case,
        complaint_no=p.complaint_no,
        unit=p.unit,
        previous_due_at=p.previous.at,
        previous_calendar=p.previous.calendar_version,
        due_at=p.revised.at,
        provisional=p.revised.provisional,
        calendar_version=p.revised.calendar_version,
        moved=p.moved,
    )


@router.get(
    "/provisional-dues",
    response_model=list[PendingDue],
    summary="Provisional due times the calendar in force would move or settle (to confirm)",
)
async def provisional_dues(
    request: Request, operator: Operator = Depends(require_roles(OFFICER))
) -> list[PendingDue]:
    _, pending = await _pending(request)
    return [_view(p) for p in pending]


@router.post(
    "/cases/{case_id}/due-confirmation",
    status_code=201,
    summary="Confirm a provisional due time as the calendar in force counts it",
    dependencies=[Depends(command(OFFICER))],
)
async def confirm_due(
    request: Request, case_id: CaseIdPath, body: commands.ConfirmDue, ledger: LedgerDep
) -> CommandAnswer:
    return await _confirm(request, case_id, body, ledger)


async def _confirm(
    request: Request, case_id: str, body: commands.ConfirmDue, ledger: Ledger
) -> CommandAnswer:
    calendar = await calendar_in_force(request)
    store = await read_store(request)
    doc = await store.get(DISPATCH_CASES, case_id)
    if doc is None:
        raise ProblemError(NOT_FOUND, "没有这件投诉")
    change = provisional.revised_due(doc, body.unit, calendar)

    def decide(state: StreamState) -> list[Draft]:
        if change is None:
            raise Refusal("nothing_to_confirm", "现行日历不改变该单位的暂定时限")
        return commands.confirm_due(
            state,
            body,
            ledger.actor,
            change.revised.at,
            change.revised.provisional,
            change.revised.calendar_version,
        )

    return await ledger.run(case_id, decide)


@router.post("/routing/provisional/{case_id}/confirmation", include_in_schema=False)
async def confirm_due_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    unit: Annotated[str, Form(pattern=r"^unit:[a-z0-9._-]{1,75}$")],
    previous_due_at: Annotated[AwareDatetime, Form()],
    due_at: Annotated[AwareDatetime, Form()],
    operator: Operator = Depends(page_command(OFFICER)),
) -> Response:
    body = commands.ConfirmDue(unit=unit, previous_due_at=previous_due_at, due_at=due_at)
    answer = await _confirm(request, case_id, body, ledger)
    return back_to("/routing", answer.position)
