"""The citizens' side of intake without an account: the public complaint form (anonymous
allowed, no JavaScript needed, a phone's width) and withdrawal with the tracking code.

The form's token is bound to the visitor and is the filing's idempotency key (a double click
files once and shows the same receipt); submissions are rate-limited per client
(``LEDGER_PUBLIC_RATE_LIMIT``). The receipt shows the number and the tracking code once. The
receiving body is this deployment's own; the filing is signed by it as ``<body>/web-form``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.intake import category, commands
from services.intake.api import ComplainantLedger
from services.intake.filing import ChannelLedger, Stated, file_stated
from services.intake.proof import proven_complaint
from shared.events.catalog import Channel
from shared.web.context import get_context
from shared.web.public_kit import public_form, public_page, render_form

router = APIRouter(tags=["public"])

COMPLAINT_FORM = "complaint"
WITHDRAW_FORM = "withdrawal"
WEB_FORM_STAFF = "web-form"
TRACKING_STAFF = "tracking-code"  # an anonymous complainant's acts, proven by the code


@router.get("/public/complaint", include_in_schema=False, dependencies=[Depends(public_page)])
async def complaint_form(request: Request) -> Response:
    return render_form(request, "public_complaint.html", COMPLAINT_FORM)


@router.post(
    "/public/complaint",
    include_in_schema=False,
    dependencies=[Depends(public_form(COMPLAINT_FORM))],
)
async def file_from_public_form(
    request: Request,
    unit: Annotated[str, Form(min_length=1, max_length=100)],
    text: Annotated[str, Form(min_length=5, max_length=20_000)],
    contact: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """投诉 by a citizen: the receipt (number and tracking code, shown this once)."""
    ctx = get_context(request)
    assert ctx.writer is not None
    body = ctx.settings.demo_body  # the deployment's own body
    ledger = ChannelLedger(ctx.writer, request, body, WEB_FORM_STAFF)
    who = contact.strip()
    stated = Stated(
        channel=Channel.web_form,
        unit_name=unit,
        text=text,
        contact=who if len(who) >= 3 else None,
    )
    filed = await file_stated(request, ledger, stated)
    return ctx.pages.render(
        request,
        "public_complaint_receipt.html",
        {
            "receipt": filed.receipt,
            "anonymous": stated.anonymous,
            "category": category.label(filed.category),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/public/withdrawal", include_in_schema=False, dependencies=[Depends(public_page)])
async def withdrawal_form(request: Request) -> Response:
    return render_form(
        request, "public_withdrawal.html", WITHDRAW_FORM, {"reasons": commands.WITHDRAW_REASONS}
    )


@router.post(
    "/public/withdrawal",
    include_in_schema=False,
    dependencies=[Depends(public_form(WITHDRAW_FORM))],
)
async def withdraw(
    request: Request,
    complaint_no: Annotated[str, Form(pattern=commands.COMPLAINT_NO_PATTERN)],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    reason: Annotated[commands.WithdrawReason, Form()],
) -> Response:
    """撤回投诉 with the number and the tracking code (wrong codes throttled as on follow-up)."""
    ctx = get_context(request)
    doc = await proven_complaint(request, complaint_no, code)
    if doc is None:
        return render_form(
            request,
            "public_withdrawal.html",
            WITHDRAW_FORM,
            {"error": "投诉编号或查询码不正确", "reasons": commands.WITHDRAW_REASONS},
            status_code=404,
        )
    assert ctx.writer is not None
    case_id = str(doc["_id"])
    who = doc.get("complainant")
    ledger = (
        ComplainantLedger(ctx.writer, request, str(who))
        if who
        else ChannelLedger(ctx.writer, request, str(doc["received_by"]), TRACKING_STAFF)
    )
    await ledger.run(case_id, lambda st: commands.withdraw(st, complaint_no, reason, ledger.actor))
    return ctx.pages.render(
        request,
        "public_withdrawal_done.html",
        {"complaint_no": complaint_no, "reason": commands.WITHDRAW_REASONS[reason]},
    )
