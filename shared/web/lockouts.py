"""An administrator's view of sign-in lockouts and the way to lift them early:
``GET /auth/lockouts`` and ``POST /auth/lockouts/lift`` (role ``admin``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shared.web.auth import require_roles
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.roles import Role


class LockoutView(BaseModel):
    account: str | None = Field(description="Keyed hash (16 hex) of the account; null: any")
    staff_id: str | None = Field(description="The operator, when the account is one of them")
    client: str | None = Field(description="Keyed hash (16 hex) of the client; null: any")
    locked_at: datetime
    until: datetime


class LiftAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["account"]
    staff_id: str = Field(min_length=1, max_length=64, description="工号")


class LiftClient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["client"]
    client: str = Field(min_length=1, max_length=64, description="Client address as logged")


LiftRequest = Annotated[LiftAccount | LiftClient, Field(discriminator="kind")]


class LiftResult(BaseModel):
    lifted: int


router = APIRouter(prefix="/auth/lockouts", tags=["auth"])


@router.get("", summary="Sign-in lockouts in force", response_model=list[LockoutView])
async def list_lockouts(
    request: Request, _: Operator = Depends(require_roles(Role.ADMIN))
) -> list[LockoutView]:
    ctx = get_context(request)
    guard = ctx.signin_guard
    known = {
        guard.account_hash(staff_id): staff_id
        for staff_id in await run_in_threadpool(ctx.identity.staff_ids)
    }
    return [
        LockoutView(
            account=lock.account[:16] or None,
            staff_id=known.get(lock.account),
            client=lock.client[:16] or None,
            locked_at=datetime.fromtimestamp(lock.locked_at, UTC),
            until=datetime.fromtimestamp(lock.until, UTC),
        )
        for lock in await run_in_threadpool(ctx.identity.lockouts)
    ]


@router.post(
    "/lift", summary="Lift the lockouts of an account or a client", response_model=LiftResult
)
async def lift_lockouts(
    request: Request, body: LiftRequest, _: Operator = Depends(command(Role.ADMIN))
) -> LiftResult:
    guard = get_context(request).signin_guard
    if isinstance(body, LiftAccount):
        lifted = await guard.lift(body.staff_id, None)
    else:
        lifted = await guard.lift(None, body.client)
    return LiftResult(lifted=lifted)
