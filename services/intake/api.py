"""Intake's API: HTTP in, commands out — receipt, screening by hand, the intake queue, and the
public follow-up page where a complainant confirms or disputes with their tracking code."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.intake import commands, receipt
from services.intake.projection import COMPLAINTS
from services.intake.proof import proven_complaint
from services.intake.receipt import file_complaint
from services.intake.receiving import settle
from services.intake.satisfaction import rate
from services.intake.status_page import holding_case, status_context
from shared.events.catalog import ScreeningOutcome
from shared.readside.projections.case_summary import CASES
from shared.store.port import Doc
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, ServiceWriter
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, page_command
from shared.web.pages import NavItem
from shared.web.problems import CONFLICT, NOT_FOUND, VALIDATION, ProblemError
from shared.web.public_kit import public_form, public_page, render_form
from shared.web.read_your_writes import FreshRead
from shared.web.roles import Role
from shared.web.service_read_model import CaseIdPath, read_store

router = APIRouter(tags=["complaints"])

DUTIES = (
    "统一受理各渠道（热线、网站、信件、来访）的投诉，一件一号，发放查询码",
    "在写入账本前去除投诉人个人信息，原件存入加密保管库",
    "识别重复投诉与越级投诉，合并为同一件",
    "向每位投诉人按其渠道回复，并收集确认、异议与满意度",
)

NAV = (NavItem("受理队列", "/queue"), NavItem("待确定单位", "/queue/unresolved"))

# The service home page (its duties) and the scaffold's demo routes.
home = demo_router("intake", Role.INTAKE_CLERK, DUTIES)


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
    body = await settle(request, body, ledger.operator.body)  # who received it
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
    complaint_no: Annotated[str, Form(pattern=commands.COMPLAINT_NO_PATTERN)],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    action: Annotated[Literal["status", "confirm", "dispute", "rate"], Form()] = "status",
    reason: Annotated[commands.DisputeReason, Form()] = commands.DisputeReason.not_resolved,
    rating: Annotated[int | None, Form(ge=1, le=5)] = None,
) -> Response:
    """查询进度 / 确认已解决 / 提出异议 / 满意度评价, with the complaint number and the tracking
    code (a gathered duplicate's on the case it was gathered into: ``status_page``)."""
    ctx = get_context(request)
    doc = await proven_complaint(request, complaint_no, code)
    if doc is None:
        return render_form(
            request,
            "public_follow_up.html",
            FOLLOW_UP_FORM,
            {"error": "投诉编号或查询码不正确"},
            status_code=404,
        )
    store = await read_store(request)
    case_id = await holding_case(store, doc)
    done: str | None = None
    if action == "rate" and rating is None:
        raise ProblemError(
            VALIDATION, "请选择 1 至 5 分的满意度评价", extensions={"reason": "rating_missing"}
        )
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
        elif action == "rate":
            score = int(rating or 0)
            await ledger.run(case_id, lambda st: rate(st, complaint_no, str(who), score))
            done = "rated"
        else:
            await ledger.run(
                case_id, lambda st: commands.dispute(st, complaint_no, str(who), reason)
            )
            done = "disputed"
    shown = await status_context(store, doc, case_id)
    return render_form(
        request,
        "public_follow_up_result.html",
        FOLLOW_UP_FORM,
        {**shown, "done": done, "reasons": commands.DISPUTE_REASONS},
    )
