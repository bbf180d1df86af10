"""API sign-in: ``POST /auth/token`` (staff id + password → expiring opaque bearer token),
``POST /auth/revoke`` and ``GET /auth/me``."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shared.web.auth import authenticated, bearer_scheme, public
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.problems import INVALID_CREDENTIALS, PASSWORD_CHANGE_REQUIRED, ProblemError
from shared.web.roles import Role

log = structlog.get_logger("ledger.web")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: str = Field(min_length=1, max_length=64, description="工号")
    password: str = Field(min_length=1, max_length=256, description="密码")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
    expires_at: datetime
    staff_id: str
    body: str
    roles: list[Role]


class OperatorView(BaseModel):
    staff_id: str
    body: str
    roles: list[Role]
    display_name: str | None


router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    dependencies=[Depends(public)],
    summary="Sign in: exchange staff id and password for a bearer token",
    response_model=TokenResponse,
)
async def issue_token(
    request: Request, response: Response, credentials: TokenRequest
) -> TokenResponse:
    ctx = get_context(request)
    # A token must never sit in a cache (RFC 6749 §5.1), nor a refusal that names it.
    response.headers.update(NO_STORE)
    # Throttled and locked before hashing; argon2 itself runs gated, off the event loop.
    operator = await ctx.signin_guard.attempt(
        request, credentials.staff_id, credentials.password, "api"
    )
    if operator is None:
        raise ProblemError(
            INVALID_CREDENTIALS,
            headers={"WWW-Authenticate": 'Bearer realm="ledger"', **NO_STORE},
        )
    if operator.must_change_password:
        # A reset (or new) password is for the change-password page only (sessions.py).
        raise ProblemError(PASSWORD_CHANGE_REQUIRED, "请先在登录页面修改密码", headers=NO_STORE)
    ttl = ctx.settings.token_ttl_seconds
    issued = await run_in_threadpool(ctx.identity.issue, "bearer", operator, ttl)
    log.info("signin.succeeded", channel="api", staff_id=operator.staff_id)
    return TokenResponse(
        access_token=issued.token,
        expires_in=ttl,
        expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
        staff_id=operator.staff_id,
        body=operator.body,
        roles=sorted(operator.roles),
    )


@router.post(
    "/revoke",
    status_code=204,
    summary="Sign out: revoke the bearer token of this request",
    response_class=Response,
)
async def revoke_token(
    request: Request,
    operator: Operator = Depends(authenticated),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> Response:
    if credentials is not None:
        await run_in_threadpool(
            get_context(request).identity.revoke, "bearer", credentials.credentials
        )
    log.info("token.revoked", staff_id=operator.staff_id)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in operator", response_model=OperatorView)
async def me(operator: Operator = Depends(authenticated)) -> OperatorView:
    return OperatorView(
        staff_id=operator.staff_id,
        body=operator.body,
        roles=sorted(operator.roles),
        display_name=operator.display_name,
    )
