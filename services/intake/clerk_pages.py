"""The intake clerks' side: entry of visits, letters and calls (来访 / 来信 / 来电) with the
receipt time the clerk states and the receiving body; the intake queue with filters and
paging; a complaint's detail (its text from the log, its timeline) with the clerk's acts —
name the unit of an unresolved complaint, override the category, decline what is out of
scope; the unresolved-unit queue. The same acts are JSON commands for API clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from services.intake import category, commands, scope
from services.intake.filing import (
    Stated,
    file_stated,
    filled,
    forget_unresolved,
    unresolved_entry,
    uploads,
)
from services.intake.projection import COMPLAINTS
from services.intake.receiving import bodies_we_receive_for, invalid_field
from shared.events.catalog import Channel, ConfigKind, UnitDirectory
from shared.readside.projections.case_summary import CASES, TIMELINE
from shared.rules.case import ENDED, OPEN
from shared.rules.case.complaint import UNRESOLVED_UNIT
from shared.store.port import DESC, Doc
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.config_in_force import in_force
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.roles import Role
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["complaints"])

PAGE_SIZE = 50
SHANGHAI = ZoneInfo("Asia/Shanghai")

CHANNELS = {
    Channel.visit: "来访",
    Channel.letter: "来信",
    Channel.phone: "来电",
    Channel.email: "电子邮件",
    Channel.web_form: "网站",
    Channel.hotline_12345: "12345 热线",
    Channel.online_platform: "网上平台",
    Channel.open311: "Open311",
    Channel.referral: "转来",
}
# What a clerk enters by hand; the other channels arrive by themselves.
CLERK_CHANNELS = {c: CHANNELS[c] for c in (Channel.visit, Channel.letter, Channel.phone)}
CategoryChoice = Annotated[str, Form(max_length=60)]
UnitName = Annotated[str, Form(min_length=1, max_length=100)]


def _category_or_422(request: Request, chosen: str) -> str | None:
    """A clerk's category: a code or a name of the list; empty: suggested from the text."""
    chosen = chosen.strip()
    if not chosen:
        return None
    for code, name in category.CATEGORIES.items():
        if chosen in (code, name):
            return code
    raise invalid_field(request, ("body", "category"), "unknown_category", "问题类别应取自类别表")


def _stated_time(request: Request, value: str) -> str | None:
    """A datetime-local value (Beijing time) as RFC 3339, or None for empty; 422 otherwise."""
    if not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid_field(
            request, ("body", "stated_received_at"), "datetime_parsing", "收件时间格式不正确"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    return at.isoformat(timespec="seconds")


# -- the queue -----------------------------------------------------------------------------------

QueueView = Literal["unscreened", "all"]
FilterValue = Annotated[str, Query(max_length=80, pattern=r"^[a-z0-9:._-]*$")]


async def _queue_rows(
    request: Request, wanted: dict[str, Any], page_no: int
) -> tuple[list[dict[str, Any]], int]:
    store = await read_store(request)
    total = await store.count(COMPLAINTS, wanted)
    complaints = await store.find(
        COMPLAINTS,
        wanted,
        sort=[("received_at", DESC)],
        skip=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    cases = await store.get_many(CASES, [c["_id"] for c in complaints])
    rows = [{"case_id": c["_id"], **c, "case": cases.get(c["_id"], {})} for c in complaints]
    return rows, total


@router.get("/queue", include_in_schema=False)
async def intake_queue(
    request: Request,
    fresh: FreshRead,
    view: Annotated[QueueView, Query()] = "unscreened",
    state: FilterValue = "",
    channel: FilterValue = "",
    received_by: FilterValue = "",
    unit: FilterValue = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """受理队列: filters (state, channel, receiving body, unit), 50 a page, newest first."""
    store = await read_store(request)
    wanted: dict[str, Any] = {}
    if view == "unscreened":
        wanted["screened"] = False
    if channel:
        wanted["channel"] = channel
    if received_by:
        wanted["received_by"] = received_by
    if unit:
        wanted["unit"] = unit
    if state:
        # The case's state lives in the case summary: the cases in that state, then ours.
        in_state = await store.find(CASES, {"status": state})
        wanted["_id"] = {"$in": [c["_id"] for c in in_state]}
    rows, total = await _queue_rows(request, wanted, page_no)
    unscreened = await store.count(COMPLAINTS, {"screened": False})
    filters = {
        k: v
        for k, v in (
            ("view", view),
            ("state", state),
            ("channel", channel),
            ("received_by", received_by),
            ("unit", unit),
        )
        if v
    }
    bodies = await bodies_we_receive_for(request)
    return get_context(request).pages.render(
        request,
        "intake_queue.html",
        {
            "rows": rows,
            "view": view,
            "filters": filters,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "total": total,
            "unscreened": unscreened,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "channels": CHANNELS,
            "clerk_channels": CLERK_CHANNELS,
            "bodies": bodies,
            "body_names": dict(bodies),
            "default_body": operator.body,
            "categories": category.CATEGORIES,
            "category_label": category.label,
            "unresolved_unit": UNRESOLVED_UNIT,
        },
    )


@router.post("/queue/complaints", include_in_schema=False)
async def record_from_page(
    request: Request,
    ledger: LedgerDep,
    channel: Annotated[Channel, Form()],
    unit: UnitName,
    text: Annotated[str, Form(min_length=1, max_length=20_000)],
    category_choice: Annotated[str, Form(alias="category", max_length=60)] = "",
    contact: Annotated[str, Form(max_length=100)] = "",
    received_by: Annotated[str, Form(max_length=80, pattern=r"^[a-z0-9:._-]*$")] = "",
    stated_received_at: Annotated[str, Form(max_length=40)] = "",
    complainant_name: Annotated[str, Form(max_length=50)] = "",
    complainant_phone: Annotated[str, Form(max_length=40)] = "",
    complainant_email: Annotated[str, Form(max_length=100)] = "",
    complainant_id_number: Annotated[str, Form(max_length=30)] = "",
    complainant_address: Annotated[str, Form(max_length=200)] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    """受理 from the queue page: the receipt, with the tracking code, shown this once; the
    complainant's details and files go to the vault."""
    if channel not in CLERK_CHANNELS:
        raise invalid_field(request, ("body", "channel"), "enum", "登记页只受理来访、来信、来电")
    stated = Stated(
        channel=channel,
        unit_name=unit,
        text=text,
        category=_category_or_422(request, category_choice),
        contact=contact.strip() if len(contact.strip()) >= 3 else None,
        received_by=received_by or None,
        stated_received_at=_stated_time(request, stated_received_at),
        personal=filled(
            complainant_name=complainant_name,
            complainant_phone=complainant_phone,
            complainant_email=complainant_email,
            complainant_id_number=complainant_id_number,
            complainant_address=complainant_address,
        ),
        attachments=tuple(await uploads(attachments or [])),
    )
    filed = await file_stated(request, ledger, stated)
    return get_context(request).pages.render(
        request,
        "intake_receipt.html",
        {
            "receipt": filed.receipt,
            "anonymous": stated.anonymous,
            "unresolved": not filed.resolution.resolved,
            "category": category.label(filed.category),
        },
    )


# -- a complaint's detail ------------------------------------------------------------------------


async def _complaint(request: Request, case_id: str) -> Doc:
    store = await read_store(request)
    doc = await store.get(COMPLAINTS, case_id)
    if doc is None or doc.get("complaint_no") is None:
        raise ProblemError(NOT_FOUND)
    return doc


async def _text_of(request: Request, received_id: str | None, case_id: str) -> str | None:
    """The complaint's text as logged (personal data already replaced by placeholders)."""
    writer = get_context(request).writer
    if writer is None or received_id is None:
        return None
    log = (await writer.writer()).log
    async for rec in log.read_stream(case_id):
        env = orjson.loads(rec.record)
        if env.get("id") == received_id:
            return str(env["data"]["text"])
    return None


async def _directory(request: Request) -> UnitDirectory:
    found = await in_force(request, ConfigKind.unit_directory, UnitDirectory)
    return found.content


@router.get("/queue/unresolved", include_in_schema=False)
async def unresolved_queue(
    request: Request,
    fresh: FreshRead,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """待确定单位: complaints whose unit the directory did not resolve, oldest first."""
    store = await read_store(request)
    wanted = {"unit": UNRESOLVED_UNIT, "ended": None}
    total = await store.count(COMPLAINTS, wanted)
    docs = await store.find(
        COMPLAINTS,
        wanted,
        sort=[("received_at", 1)],
        skip=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    rows = []
    for d in docs:
        entry = await unresolved_entry(request, str(d["_id"])) or {}
        rows.append(
            {
                "case_id": d["_id"],
                **d,
                "stated": entry.get("stated"),
                "candidates": entry.get("candidates", []),
            }
        )
    units = await _directory(request)
    return get_context(request).pages.render(
        request,
        "intake_unresolved.html",
        {
            "rows": rows,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "units": units.units,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "channels": CHANNELS,
        },
    )


@router.get("/queue/{case_id}", include_in_schema=False)
async def complaint_detail(
    case_id: CaseIdPath,
    request: Request,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """一件投诉: what was received, by whom, its state and timeline, and the clerk's acts."""
    doc = await _complaint(request, case_id)
    store = await read_store(request)
    case = await store.get(CASES, case_id) or {}
    timeline = await store.find(TIMELINE, {"case": case_id}, sort=[("n", 1)], limit=200)
    entry = await unresolved_entry(request, case_id) if doc["unit"] == UNRESOLVED_UNIT else None
    units = await _directory(request)
    unit_names = {u.id: u.name for u in units.units}
    status = str(case.get("status", "received"))
    return get_context(request).pages.render(
        request,
        "intake_complaint.html",
        {
            "case_id": case_id,
            "c": doc,
            "case": case,
            "text": await _text_of(request, doc.get("received_id"), case_id),
            "timeline": timeline,
            "unresolved": entry,
            "units": units.units,
            "unit_name": unit_names.get(str(doc["unit"]), doc["unit"]),
            "body_names": dict(await bodies_we_receive_for(request)),
            "channels": CHANNELS,
            "categories": category.CATEGORIES,
            "category_label": category.label,
            "scope_kinds": scope.KINDS,
            "scope_flag": doc.get("scope_flag"),
            "can_decline": status == "received",
            "is_open": status in OPEN and status not in ENDED,
            "unresolved_unit": UNRESOLVED_UNIT,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


def _unit_in_directory(request: Request, unit: str, units: UnitDirectory) -> str:
    if not any(u.id == unit for u in units.units):
        raise invalid_field(
            request, ("body", "unit"), "unknown_unit", "被监督单位名录中没有这个单位"
        )
    return unit


def _scope_kind(request: Request, code: str) -> scope.OutOfScope:
    kind = scope.KINDS.get(code)
    if kind is None:
        raise invalid_field(
            request, ("body", "reason_code"), "enum", "不予受理的理由应取自规定情形"
        )
    return kind


@router.post("/queue/{case_id}/unit", include_in_schema=False)
async def resolve_from_page(
    case_id: CaseIdPath,
    request: Request,
    ledger: LedgerDep,
    unit: Annotated[str, Form(max_length=80)],
    back: Annotated[Literal["detail", "unresolved"], Form()] = "detail",
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    answer = await _resolve(request, ledger, case_id, unit)
    return back_to(
        f"/queue/{case_id}" if back == "detail" else "/queue/unresolved", answer.position
    )


async def _resolve(request: Request, ledger: LedgerDep, case_id: str, unit: str) -> CommandAnswer:
    unit = _unit_in_directory(request, unit, await _directory(request))
    answer = await ledger.run(case_id, lambda st: commands.resolve_unit(st, unit, ledger.actor))
    await forget_unresolved(request, case_id)
    return answer


@router.post("/queue/{case_id}/category", include_in_schema=False)
async def recategorise_from_page(
    case_id: CaseIdPath,
    request: Request,
    ledger: LedgerDep,
    category_choice: Annotated[str, Form(alias="category", min_length=1, max_length=60)],
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    code = _category_or_422(request, category_choice) or category.OTHER
    answer = await ledger.run(case_id, lambda st: commands.recategorise(st, code, ledger.actor))
    return back_to(f"/queue/{case_id}", answer.position)


@router.post("/queue/{case_id}/decline", include_in_schema=False)
async def decline_from_page(
    case_id: CaseIdPath,
    request: Request,
    ledger: LedgerDep,
    reason_code: Annotated[str, Form(max_length=40)],
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    kind = _scope_kind(request, reason_code)
    answer = await ledger.run(
        case_id, lambda st: commands.decline(st, kind.code, kind.reason, ledger.actor)
    )
    return back_to(f"/queue/{case_id}", answer.position)


# -- the same acts as JSON commands --------------------------------------------------------------


class ResolveUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$")]


class Recategorise(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal[
        "approval_delay",
        "work_discipline",
        "service_attitude",
        "inaction",
        "arbitrary_action",
        "buck_passing",
        "perfunctory_reply",
        "other",
    ]


class Decline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason_code: Literal["litigation", "criminal", "arbitration", "discipline_violation"]


@router.post(
    "/complaints/{case_id}/unit",
    status_code=201,
    summary="Name the directory unit of a complaint received with an unresolved unit name",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def resolve_unit(
    case_id: CaseIdPath, body: ResolveUnit, ledger: LedgerDep, request: Request
) -> CommandAnswer:
    return await _resolve(request, ledger, case_id, body.unit)


@router.post(
    "/complaints/{case_id}/category",
    status_code=201,
    summary="Override the complaint's category (from the configured list)",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def recategorise(case_id: CaseIdPath, body: Recategorise, ledger: LedgerDep) -> CommandAnswer:
    return await ledger.run(
        case_id, lambda st: commands.recategorise(st, body.category, ledger.actor)
    )


@router.post(
    "/complaints/{case_id}/decline",
    status_code=201,
    summary="Decline an out-of-scope complaint (litigation, criminal…), naming the proper channel",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def decline(case_id: CaseIdPath, body: Decline, ledger: LedgerDep) -> CommandAnswer:
    kind = scope.KINDS[body.reason_code]
    return await ledger.run(
        case_id, lambda st: commands.decline(st, kind.code, kind.reason, ledger.actor)
    )
