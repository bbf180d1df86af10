"""The scaffold's demo routes, one set per service until its real routes arrive: an idempotent,
role-checked command whose body has every common field type, and a placeholder home page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
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

    @router.get("/", include_in_schema=False)
    async def home(request: Request, operator: Operator = Depends(page())) -> Response:
        return get_context(request).pages.render(
            request, "service_home.html", {"duties": list(duties), "demo_role": role}
        )

    return router
