"""The scaffold's demo routes, one set per service until its real routes arrive: an idempotent,
role-checked command whose body has every common field type, a placeholder home page, and the
public kit at work (a public home, an anonymous form filed once per token, an anonymous JSON
submission). The demo submissions keep nothing of what was sent: they hand out a receipt."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.public_kit import (
    UUID_PATTERN,
    public_command,
    public_form,
    public_page,
    render_form,
)
from shared.web.roles import Role
from shared.web.sessions import page
from shared.web.wire import IsoDate, JsonInt


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class Channel(StrEnum):
    HOTLINE = "hotline"
    WEB = "web"
    LETTER = "letter"
    VISIT = "visit"


class DemoContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    reference: str = Field(min_length=1, max_length=64, description="Channel's own reference")


class DemoCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    count: JsonInt = Field(ge=0, le=1000)
    due: IsoDate
    urgency: Urgency
    tags: list[str] = Field(default_factory=list, max_length=10)
    contact: DemoContact


class DemoSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=2000, description="反映内容")
    contact: str | None = Field(None, max_length=32, description="联系电话（选填）")


class DemoReceipt(BaseModel):
    receipt: uuid.UUID


class DemoAccepted(BaseModel):
    command_id: uuid.UUID
    service: str
    accepted_by: str
    accepted_at: datetime
    urgency: Urgency
    tag_count: int


def demo_router(service: str, role: Role, duties: Sequence[str]) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/api/demo/commands",
        status_code=201,
        response_model=DemoAccepted,
        tags=["demo"],
        summary=f"Demo command ({role.value}; Idempotency-Key required)",
    )
    async def demo_command(
        body: DemoCommand, operator: Operator = Depends(command(role))
    ) -> DemoAccepted:
        return DemoAccepted(
            command_id=uuid.uuid4(),
            service=service,
            accepted_by=operator.staff_id,
            accepted_at=datetime.now(UTC),
            urgency=body.urgency,
            tag_count=len(body.tags),
        )

    @router.get("/public", include_in_schema=False, dependencies=[Depends(public_page)])
    async def public_home(request: Request) -> Response:
        return get_context(request).pages.render(
            request, "public_home.html", {"links": [("意见反馈（演示）", "/public/demo-form")]}
        )

    @router.get("/public/demo-form", include_in_schema=False, dependencies=[Depends(public_page)])
    async def public_demo_form(request: Request) -> Response:
        return render_form(request, "public_demo_form.html", "demo-feedback")

    @router.post(
        "/public/demo-form",
        include_in_schema=False,
        dependencies=[Depends(public_form("demo-feedback"))],
    )
    async def public_demo_file(
        content: Annotated[str, Form(min_length=1, max_length=2000)],
        contact: Annotated[str | None, Form(max_length=32)] = None,
    ) -> Response:
        # Filed: a real form hands its fields on (intake's vault); the demo keeps none.
        return RedirectResponse(f"/public/receipts/{uuid.uuid4()}", status_code=303)

    @router.get(
        "/public/receipts/{receipt}",
        include_in_schema=False,
        dependencies=[Depends(public_page)],
    )
    async def public_receipt(
        request: Request, receipt: Annotated[str, Path(pattern=UUID_PATTERN)]
    ) -> Response:
        return get_context(request).pages.render(
            request, "public_receipt.html", {"receipt": receipt}
        )

    @router.post(
        "/api/public/demo-submissions",
        status_code=201,
        response_model=DemoReceipt,
        tags=["public"],
        summary="Anonymous demo submission (Idempotency-Key: a UUID)",
        dependencies=[Depends(public_command())],
    )
    async def public_demo_submission(body: DemoSubmission) -> DemoReceipt:
        return DemoReceipt(receipt=uuid.uuid4())

    @router.get("/", include_in_schema=False)
    async def home(request: Request, operator: Operator = Depends(page())) -> Response:
        return get_context(request).pages.render(
            request, "service_home.html", {"duties": list(duties), "demo_role": role}
        )

    return router
