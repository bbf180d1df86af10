"""E-mail intake over HTTP: an ``.eml`` uploaded by a clerk (page or API), or sent by the
maildir reader (``ledger import mail``) — one message, one complaint (``mail.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from starlette.responses import Response

from services.intake import commands, receipt
from services.intake.derived_keys import derived_ledger
from services.intake.mail import MAIL_PROBLEM_LABELS, MailComplaint, MailRefused, parse_message
from services.intake.receipt import file_complaint
from shared.events.catalog import Channel
from shared.web.auth import require_roles
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.page_commands import new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import UNSUPPORTED_MEDIA_TYPE, VALIDATION, ProblemError
from shared.web.roles import Role
from shared.web.sessions import page

router = APIRouter(tags=["e-mail intake"])

# Event ids of e-mailed complaints are derived under this name from the message's identity:
# one message is one complaint whoever files it, however often (derived_keys.py).
MAIL_ID_SCOPE = "channel:email"
MEDIA_TYPE = "message/rfc822"
# A file upload as many HTTP clients send one: the same bytes.
MEDIA_TYPES = (MEDIA_TYPE, "application/octet-stream")
DEFAULT_CATEGORY = "其他"
MAX_MESSAGE_BYTES = 1_000_000
NAV = (NavItem("邮件受理", "/mail"),)

UnitQuery = Annotated[
    str, Query(pattern=r"^[a-z0-9:._-]{1,80}$", description="The unit complained about")
]
CategoryQuery = Annotated[str, Query(min_length=1, max_length=60)]


def _parsed(raw: bytes) -> MailComplaint:
    try:
        return parse_message(raw)
    except MailRefused as exc:
        raise ProblemError(
            VALIDATION, MAIL_PROBLEM_LABELS[exc.problem], extensions={"reason": exc.problem.value}
        ) from None


async def file_mail(
    request: Request, mail: MailComplaint, unit: str, category: str
) -> receipt.Receipt:
    """File the message's complaint: its attachments kept in the vault, by hash in the log."""
    try:
        body = commands.ReceiveComplaint(
            channel=Channel.email,
            unit=unit,
            category=category,
            text=mail.text,
            contact=mail.contact,
            attachments=[a.as_upload() for a in mail.attachments],
        )
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise ProblemError(
            VALIDATION, "邮件无法登记为投诉", extensions={"reason": "invalid", "fields": fields}
        ) from None
    return await file_complaint(body, derived_ledger(request, MAIL_ID_SCOPE, mail.key), request)


@router.post(
    "/mail/messages",
    status_code=201,
    summary="Record an e-mailed complaint from the RFC 5322 message (body: message/rfc822 or "
    "application/octet-stream). "
    "The same message again gets the same complaint",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA_TYPES},
        }
    },
)
async def receive_email(
    request: Request, unit: UnitQuery, category: CategoryQuery = DEFAULT_CATEGORY
) -> receipt.Receipt:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise ProblemError(UNSUPPORTED_MEDIA_TYPE, "请求体应为 message/rfc822（.eml 邮件原文）")
    return await file_mail(request, _parsed(await request.body()), unit, category)


@router.get("/mail", include_in_schema=False)
async def mail_page(
    request: Request, operator: Operator = Depends(page(Role.INTAKE_CLERK))
) -> Response:
    """邮件受理: upload one .eml message."""
    return get_context(request).pages.render(
        request, "intake_mail.html", {"form_key": new_form_key, "category": DEFAULT_CATEGORY}
    )


@router.post("/mail", include_in_schema=False)
async def mail_from_page(
    request: Request,
    message: Annotated[UploadFile, File()],
    unit: Annotated[str, Form(pattern=r"^[a-z0-9:._-]{1,80}$")],
    category: Annotated[str, Form(min_length=1, max_length=60)] = DEFAULT_CATEGORY,
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    raw = await message.read(MAX_MESSAGE_BYTES + 1)
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProblemError(VALIDATION, "邮件过大，请人工登记", extensions={"reason": "too_large"})
    mail = _parsed(raw)
    answer = await file_mail(request, mail, unit, category)
    return get_context(request).pages.render(
        request, "intake_receipt.html", {"receipt": answer, "anonymous": mail.contact is None}
    )
