"""The change-password page (``/account/password``): where a person whose password was set by
an administrator (a new operator, a reset) is sent before anything else, and where anyone signed
in replaces their own password.

The current password is checked through the sign-in guard (throttle, lockouts, bounded
hashing: ``throttle.py``), so the form is no side door for guessing; the new one must pass
``password_policy.py``. On success the must-change flag is cleared, every other token and
session of the person ends (the session in use stays), and the record of changes notes it.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.operator_changes import Refusal
from shared.web.password_policy import MAX_LENGTH, MIN_LENGTH, password_faults
from shared.web.problems import BUSY, PASSWORD_CHANGE_PATH, TOO_MANY_REQUESTS, ProblemError
from shared.web.sessions import page, safe_next, session_cookie

log = structlog.get_logger("ledger.web")
TEMPLATE = "account_password.html"

router = APIRouter(include_in_schema=False)


def _text(value: Any) -> str:
    # Longer than any accepted password, so an over-long one is refused, not silently cut.
    return value[: MAX_LENGTH + 1] if isinstance(value, str) else ""


def _render(
    request: Request, next_path: str, errors: list[str] | None = None, status_code: int = 200
) -> Response:
    return get_context(request).pages.render(
        request,
        TEMPLATE,
        {"next": next_path, "errors": errors or [], "min_length": MIN_LENGTH},
        status_code=status_code,
    )


@router.get(PASSWORD_CHANGE_PATH)
async def password_form(
    request: Request, _: Operator = Depends(page(before_password_change=True))
) -> Response:
    return _render(request, safe_next(request.query_params.get("next")))


@router.post(PASSWORD_CHANGE_PATH)
async def change_password(
    request: Request, operator: Operator = Depends(page(before_password_change=True))
) -> Response:
    ctx = get_context(request)
    form = await request.form()
    next_path = safe_next(_text(form.get("next")))
    current = _text(form.get("current_password"))
    new = _text(form.get("new_password"))
    again = _text(form.get("new_password_again"))
    try:
        checked = (
            await ctx.signin_guard.attempt(request, operator.staff_id, current, "password-change")
            if current
            else None
        )
    except ProblemError as refused:
        if refused.problem not in (TOO_MANY_REQUESTS, BUSY):
            raise
        return _render(request, next_path, [refused.detail or ""], refused.problem.status)
    if checked is None:
        return _render(request, next_path, ["当前密码不正确"], 403)
    faults = password_faults(operator.staff_id, new, current)
    if new != again:
        faults.append("两次输入的新密码不一致")
    if faults:
        return _render(request, next_path, faults, 422)
    session = request.cookies.get(session_cookie(ctx.service))
    # argon2 runs on the password gate's own pool, bounded like every sign-in.
    outcome = await ctx.signin_guard.gate.run(
        ctx.identity.change_own_password, operator.staff_id, new, session
    )
    if isinstance(outcome, Refusal):  # disabled or removed meanwhile
        await run_in_threadpool(ctx.identity.revoke, "session", session or "")
        return RedirectResponse("/signin", status_code=303)
    log.info("operator.changed", action=outcome.change.action, staff_id=operator.staff_id)
    return RedirectResponse(next_path if next_path != PASSWORD_CHANGE_PATH else "/", 303)
