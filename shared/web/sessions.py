"""Page sign-in: session cookies (HttpOnly, SameSite=Lax, one name per service since cookies
ignore ports), the ``page(...)`` dependency with its CSRF check, and the sign-in/out routes.

The sign-in form is an anonymous form of the public kit: its anti-forgery token is bound on the
server to the visitor cookie (``public_kit.py``), and each attempt goes through the sign-in guard
(throttle, lockouts, bounded hashing: ``throttle.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shared.web import csrf
from shared.web.auth import AUTH_MARK, check_roles, public, role_set
from shared.web.context import CSRF_TOKEN, OPERATOR, get_context
from shared.web.identity import Operator
from shared.web.problems import (
    BUSY,
    TOO_MANY_REQUESTS,
    PasswordChangeRequired,
    ProblemError,
    SignInRequired,
)
from shared.web.public_kit import FORM_FIELD, form_token_valid, render_form, visitor_of
from shared.web.roles import Role

SIGNIN_PATH = "/signin"
log = structlog.get_logger("ledger.web")


def session_cookie(service: str) -> str:
    return f"ledger_{service}_session"


SIGNIN_FORM = "signin"


def page(*roles: Role | str, before_password_change: bool = False) -> Callable[..., Any]:
    """Page route dependency: a signed-in session holding one of ``roles`` (none: anyone signed
    in); on POST/PUT/PATCH/DELETE also a valid CSRF token. Browsers without a session are sent
    to the sign-in form; a person who must change their password, to the change-password form
    (only routes declared ``before_password_change=True`` — that form, sign-out — let them
    through)."""
    wanted = role_set(roles)

    async def dependency(request: Request) -> Operator:
        ctx = get_context(request)
        token = request.cookies.get(session_cookie(ctx.service))
        resolved = (
            await run_in_threadpool(ctx.identity.resolve, "session", token) if token else None
        )
        if resolved is None:
            raise SignInRequired("请先登录")
        request.scope[OPERATOR] = resolved.operator
        request.scope[CSRF_TOKEN] = resolved.csrf_token
        if request.method not in csrf.SAFE_METHODS:
            await csrf.verify(request, resolved.csrf_token)
        if resolved.operator.must_change_password and not before_password_change:
            raise PasswordChangeRequired("请先修改密码，再使用其他功能")
        check_roles(resolved.operator, wanted)
        return resolved.operator

    setattr(dependency, AUTH_MARK, "session")
    dependency.__name__ = "page_" + "_".join(sorted(wanted) or ["any"])
    return dependency


def safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect to another site), and only the
    path: a query string may hold what someone searched for, and must not travel on through
    the form and the redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return parts.path or "/"


def _form_text(value: Any, limit: int = 512) -> str:
    return value[:limit] if isinstance(value, str) else ""


router = APIRouter(include_in_schema=False)


def _signin_page(
    request: Request,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render_form(
        request,
        "signin.html",
        SIGNIN_FORM,
        {"next": next_path, "error": error},
        status_code=status_code,
        headers=headers,
    )


@router.get(SIGNIN_PATH, dependencies=[Depends(public)])
async def signin_form(request: Request) -> Response:
    ctx = get_context(request)
    next_path = safe_next(request.query_params.get("next"))
    token = request.cookies.get(session_cookie(ctx.service))
    signed_in = token is not None and (
        await run_in_threadpool(ctx.identity.resolve, "session", token) is not None
    )
    if signed_in:
        return RedirectResponse(next_path, status_code=303)
    return _signin_page(request, next_path)


@router.post(SIGNIN_PATH, dependencies=[Depends(public)])
async def signin(request: Request) -> Response:
    ctx = get_context(request)
    form = await request.form()
    if not form_token_valid(request, SIGNIN_FORM, visitor_of(request), form.get(FORM_FIELD)):
        # A stale form, a cross-site post, a token from another browser: show a fresh form.
        return _signin_page(request, "/", "表单已失效，请重新登录", status_code=403)
    next_path = safe_next(_form_text(form.get("next"), 2048))
    staff_id = _form_text(form.get("staff_id"), 64).strip()
    password = _form_text(form.get("password"), 256)
    try:
        operator = (
            await ctx.signin_guard.attempt(request, staff_id, password, "page")
            if staff_id and password
            else None
        )
    except ProblemError as refused:
        if refused.problem not in (TOO_MANY_REQUESTS, BUSY):
            raise
        return _signin_page(
            request,
            next_path,
            refused.detail,
            status_code=refused.problem.status,
            headers=refused.headers,
        )
    if operator is None:
        return _signin_page(request, next_path, "工号或密码错误", status_code=401)
    old = request.cookies.get(session_cookie(ctx.service))
    if old:
        # A new session id on every sign-in (no fixation); the old one is dead.
        await run_in_threadpool(ctx.identity.revoke, "session", old)
    issued = await run_in_threadpool(
        ctx.identity.issue, "session", operator, ctx.settings.session_ttl_seconds
    )
    log.info("signin.succeeded", channel="page", staff_id=operator.staff_id)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        session_cookie(ctx.service),
        issued.token,
        max_age=ctx.settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
    )
    return response


@router.post("/signout")
async def signout(
    request: Request, operator: Operator = Depends(page(before_password_change=True))
) -> Response:
    ctx = get_context(request)
    token = request.cookies.get(session_cookie(ctx.service))
    if token:
        await run_in_threadpool(ctx.identity.revoke, "session", token)
    log.info("signout", staff_id=operator.staff_id)
    response = RedirectResponse(SIGNIN_PATH, status_code=303)
    response.delete_cookie(session_cookie(ctx.service), path="/")
    return response
