"""Intake's API: HTTP in, commands out — receipt, screening by hand, the intake queue, and the
public follow-up page where a complainant confirms or disputes with their tracking code."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from services.intake import commands, receipt, tracking_code
from services.intake.projection import COMPLAINTS
from services.intake.receipt import file_complaint
from services.intake.vault_content import MEDIA_TYPE, AttachmentUpload
from shared.events.catalog import Channel, ScreeningOutcome
from shared.readside.projections.case_summary import CASES
from shared.store.port import DESC, Doc
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, ServiceWriter
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import CONFLICT, NOT_FOUND, ProblemError
from shared.web.public_kit import public_form, public_page, render_form
from shared.web.ratelimit import RateLimits, client_address, too_many
from shared.web.read_your_writes import FreshRead
from shared.web.roles import Role
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["complaints"])

DUTIES = (
    "统一受理各渠道（热线、网站、信件、来访）的投诉，一件一号，发放查询码",
    "在写入账本前去除投诉人个人信息，原件存入加密保管库",
    "识别重复投诉与越级投诉，合并为同一件",
    "向每位投诉人按其渠道回复，并收集确认、异议与满意度",
)

NAV = (NavItem("受理队列", "/queue"),)

# The service home page (its duties) and the scaffold's demo routes.
home = demo_router("intake", Role.INTAKE_CLERK, DUTIES)


# Wrong tracking codes: counted per complaint number and per client, refused beyond these.
FAILURES_PER_COMPLAINT = RateLimits.parse("5/hour")
FAILURES_PER_CLIENT = RateLimits.parse("20/hour")
FOLLOW_UP_FORM = "follow-up"


@router.post(
    "/complaints",
    status_code=201,
    summary="Record a complaint (受理): opens its case and hands out the tracking code",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def receive_complaint(
    body: commands.ReceiveComplaint, ledger: LedgerDep, request: Request
) -> receipt.Receipt:
    return await file_complaint(body, ledger, request)


@router.post(
    "/complaints/{case_id}/screening",
    status_code=201,
    summary="Screen a complaint by hand (duplicate and cross-level checks done): it may then "
    "be assigned",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def screen_complaint(
    case_id: CaseIdPath, body: commands.ScreenComplaint, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: commands.screen(st, body, ledger.actor))


def _public(doc: Doc) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


@router.get(
    "/complaints/{case_id}",
    summary="A complaint's case as the read model holds it (?after= waits for a command)",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def complaint_case(case_id: CaseIdPath, fresh: FreshRead, request: Request) -> dict[str, Any]:
    store = await read_store(request)
    doc = await store.get(CASES, case_id)
    if doc is None:
        detail = "读模型尚未更新到该位置" if fresh.gave_up else None
        raise ProblemError(NOT_FOUND, detail)
    complaint = await store.get(COMPLAINTS, case_id) or {}
    intake = {
        k: complaint.get(k)
        for k in ("complaint_no", "channel", "category", "screened", "screening", "answer")
    }
    return _public(doc) | intake | {"case_id": case_id}


# -- pages ---------------------------------------------------------------------------------------

QueueView = Literal["unscreened", "all"]


@router.get("/queue", include_in_schema=False)
async def intake_queue(
    request: Request,
    fresh: FreshRead,
    view: Annotated[QueueView, Query()] = "unscreened",
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """受理队列: complaints awaiting screening first, each with its case's current state."""
    store = await read_store(request)
    wanted = {"screened": False} if view == "unscreened" else None
    complaints = await store.find(COMPLAINTS, wanted, sort=[("received_at", DESC)], limit=100)
    cases = await store.get_many(CASES, [c["_id"] for c in complaints])
    rows = [{"case_id": c["_id"], **c, "case": cases.get(c["_id"], {})} for c in complaints]
    unscreened = await store.count(COMPLAINTS, {"screened": False})
    return get_context(request).pages.render(
        request,
        "intake_queue.html",
        {
            "rows": rows,
            "view": view,
            "unscreened": unscreened,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "channels": CHANNELS,
        },
    )


CHANNELS = {
    Channel.visit: "来访",
    Channel.letter: "来信",
    Channel.phone: "来电",
    Channel.email: "电子邮件",
    Channel.web_form: "网站",
    Channel.hotline_12345: "12345 热线",
    Channel.referral: "转来",
}


@router.post("/queue/complaints", include_in_schema=False)
async def record_from_page(
    request: Request,
    ledger: LedgerDep,
    channel: Annotated[Channel, Form()],
    unit: Annotated[str, Form(pattern=r"^[a-z0-9:._-]{1,80}$")],
    category: Annotated[str, Form(min_length=1, max_length=60)],
    text: Annotated[str, Form(min_length=1, max_length=20_000)],
    contact: Annotated[str, Form(max_length=100)] = "",
    complainant_name: Annotated[str, Form(max_length=50)] = "",
    complainant_phone: Annotated[str, Form(max_length=40)] = "",
    complainant_email: Annotated[str, Form(max_length=100)] = "",
    complainant_id_number: Annotated[str, Form(max_length=30)] = "",
    complainant_address: Annotated[str, Form(max_length=200)] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    """受理 from the queue page: the receipt, with the tracking code, shown this once."""
    body = page_body(
        {
            "channel": channel,
            "unit": unit,
            "category": category,
            "text": text,
            "contact": contact.strip() if len(contact.strip()) >= 3 else None,
            **filled(
                complainant_name=complainant_name,
                complainant_phone=complainant_phone,
                complainant_email=complainant_email,
                complainant_id_number=complainant_id_number,
                complainant_address=complainant_address,
            ),
            "attachments": await uploads(attachments or []),
        }
    )
    answer = await file_complaint(body, ledger, request)
    return get_context(request).pages.render(
        request, "intake_receipt.html", {"receipt": answer, "anonymous": body.reachable_at is None}
    )


def filled(**fields: str) -> dict[str, str]:
    """A page form's optional text fields, blank ones left out."""
    return {k: v.strip() for k, v in fields.items() if v.strip()}


def page_body(fields: dict[str, Any]) -> commands.ReceiveComplaint:
    """The command from a page form's fields; invalid, the usual masked 422 problem."""
    try:
        return commands.ReceiveComplaint.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


async def uploads(files: Sequence[UploadFile]) -> list[AttachmentUpload]:
    """A page form's files as the command takes them (an empty file input sends none)."""
    out = []
    for f in files:
        raw = await f.read()
        if not f.filename and not raw:
            continue
        media = (f.content_type or "").lower()
        if not re.fullmatch(MEDIA_TYPE, media):
            media = "application/octet-stream"
        out.append(AttachmentUpload(media_type=media, data=base64.b64encode(raw).decode()))
    return out


@router.post("/queue/{case_id}/screening", include_in_schema=False)
async def screen_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    outcome: Annotated[ScreeningOutcome, Form()],
    related_case: Annotated[str, Form(pattern=r"^(case-[0-9a-f-]{36})?$")] = "",
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    body = commands.ScreenComplaint.model_validate(
        {"outcome": outcome, "related_case": related_case or None}
    )
    answer = await ledger.run(case_id, lambda st: commands.screen(st, body, ledger.actor))
    return back_to("/queue", answer.position)


# -- the complainant's follow-up page (public) ---------------------------------------------------


class ComplainantLedger(Ledger):
    """The command path for a complainant: intake signs for them (actor ``complainant/<their
    pseudonym>``); the public form's token is the idempotency key."""

    def __init__(self, service: ServiceWriter, request: Request, who: str) -> None:
        super().__init__(service, request)
        self._who = Operator(staff_id=who, body="complainant", roles=frozenset())

    @property
    def operator(self) -> Operator:
        return self._who


async def _refuse_if_guessing(request: Request, number_key: str, client_key: str) -> None:
    limits = get_context(request).rate_limits
    for items, key in ((FAILURES_PER_COMPLAINT, number_key), (FAILURES_PER_CLIENT, client_key)):
        refusal = await limits.exhausted(items, "tracking-failures", key)
        if refusal is not None:
            raise too_many(refusal, "查询码错误次数过多，请稍后再试")


async def _count_failure(request: Request, number_key: str, client_key: str) -> None:
    limits = get_context(request).rate_limits
    await limits.spend(FAILURES_PER_COMPLAINT, "tracking-failures", number_key)
    await limits.spend(FAILURES_PER_CLIENT, "tracking-failures", client_key)


@router.get("/public/follow-up", include_in_schema=False, dependencies=[Depends(public_page)])
async def follow_up_form(request: Request) -> Response:
    return render_form(request, "public_follow_up.html", FOLLOW_UP_FORM)


@router.post(
    "/public/follow-up",
    include_in_schema=False,
    dependencies=[Depends(public_form(FOLLOW_UP_FORM))],
)
async def follow_up(
    request: Request,
    complaint_no: Annotated[str, Form(pattern=r"^TS[0-9A-F]{12}$")],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    action: Annotated[Literal["status", "confirm", "dispute"], Form()] = "status",
    reason: Annotated[commands.DisputeReason, Form()] = commands.DisputeReason.not_resolved,
) -> Response:
    """查询进度 / 确认已解决 / 提出异议, with the complaint number and the tracking code."""
    ctx = get_context(request)
    number_key = ctx.secret.digest("tracking-complaint", complaint_no)
    client_key = ctx.secret.digest("tracking-client", client_address(request))
    await _refuse_if_guessing(request, number_key, client_key)
    store = await read_store(request)
    found = await store.find(COMPLAINTS, {"complaint_no": complaint_no}, limit=1)
    canonical = tracking_code.normalize(code)
    typed_hash = tracking_code.code_hash(canonical) if canonical else ""
    doc = found[0] if found else None
    if doc is None or not hmac.compare_digest(str(doc["tracking_code_hash"]), typed_hash):
        await _count_failure(request, number_key, client_key)
        return render_form(
            request,
            "public_follow_up.html",
            FOLLOW_UP_FORM,
            {"error": "投诉编号或查询码不正确"},
            status_code=404,
        )
    case_id = str(doc["_id"])
    done: str | None = None
    if action != "status":
        who = doc.get("complainant")
        if not who:
            raise ProblemError(
                CONFLICT,
                "匿名投诉无需确认：办结情况由督办员依规认定",
                extensions={"reason": "anonymous"},
            )
        assert ctx.writer is not None
        ledger = ComplainantLedger(ctx.writer, request, str(who))
        if action == "confirm":
            await ledger.run(case_id, lambda st: commands.confirm(st, complaint_no, str(who)))
            done = "confirmed"
        else:
            await ledger.run(
                case_id, lambda st: commands.dispute(st, complaint_no, str(who), reason)
            )
            done = "disputed"
    case = await store.get(CASES, case_id) or {}
    return ctx.pages.render(
        request,
        "public_follow_up_result.html",
        {
            "complaint_no": complaint_no,
            "status": case.get("status"),
            "due_at": case.get("due_at"),
            "answer": doc.get("answer"),
            "done": done,
            "reasons": commands.DISPUTE_REASONS,
        },
    )
