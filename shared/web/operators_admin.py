"""Operator administration (role ``admin``, each service over its own identity store).

- JSON API, bearer token and ``Idempotency-Key`` (``command(Role.ADMIN)``) as every command:
  ``GET /admin/operators``, ``POST /admin/operators/create``, ``POST /admin/operators/{staff_id}/
  disable | enable | reset-password | roles | body``, ``GET /admin/operator-changes`` and
  ``GET /admin/operators/{staff_id}/changes`` (the record of changes). Create has a path of its
  own (Starlette answers a method a path lacks with the ``Allow`` of one route only, so one path
  keeps one method), and nothing takes a query string (schemathesis counts a query parameter it
  added, and lost on the way, as one the route should have refused).
- The admin page ``/operators`` (session, CSRF token on every form): the operators with status
  and roles, a form for each action, the record of changes.

The store decides and writes in one transaction (``identity.py``, ``operator_changes.py``); a
refusal is a problem (404 unknown operator; 409 duplicate, unchanged, no administrator left,
roles that do not fit the body) and writes nothing. A temporary password (create, reset) is
shown once: its response is never stored for idempotent replay (a retry acts again) nor cached.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shared.web.auth import require_roles
from shared.web.context import IDEMPOTENCY_DISCARD, get_context
from shared.web.idempotency import command
from shared.web.identity import Applied, ChangeRecord, Operator
from shared.web.operator_changes import (
    ACTION_LABELS,
    STAFF_ID_PATTERN,
    Action,
    BodyId,
    DisplayName,
    OperatorState,
    Refusal,
    RefusalKind,
    StaffId,
)
from shared.web.pages import NavItem
from shared.web.problems import CONFLICT, NOT_FOUND, ProblemError, ProblemType
from shared.web.roles import ROLE_LABELS, Role
from shared.web.sessions import page

log = structlog.get_logger("ledger.web")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PAGE_PATH = "/operators"
RECORD_LIMIT = 500  # entries an answer or the page holds
NAV = NavItem("操作员管理", PAGE_PATH, frozenset({Role.ADMIN}))
PathStaffId = Annotated[str, Path(pattern=STAFF_ID_PATTERN, description="工号")]

# --- wire models ------------------------------------------------------------------------------


class OperatorView(BaseModel):
    staff_id: str
    body: str
    roles: list[Role]
    display_name: str | None
    status: Literal["enabled", "disabled"]
    must_change_password: bool = Field(description="下次登录须先修改密码")

    @classmethod
    def of(cls, op: OperatorState) -> OperatorView:
        return cls(
            staff_id=op.staff_id,
            body=op.body,
            roles=sorted(op.roles),
            display_name=op.display_name,
            status="disabled" if op.disabled else "enabled",
            must_change_password=op.must_change_password,
        )


class ChangeView(BaseModel):
    seq: int
    at: datetime
    actor: str = Field(description="工号，或 cli:<系统用户>，或 system:…")
    staff_id: str
    action: Action
    fields: dict[str, list[Any]] = Field(description="变更项：[变更前, 变更后]（从不含密码）")

    @classmethod
    def of(cls, record: ChangeRecord) -> ChangeView:
        return cls(
            seq=record.seq,
            at=datetime.fromtimestamp(record.at, UTC),
            actor=record.actor,
            staff_id=record.staff_id,
            action=record.action,
            fields=record.fields,
        )


class Changed(BaseModel):
    operator: OperatorView
    change: ChangeView


class ChangedWithPassword(Changed):
    temporary_password: str = Field(description="临时密码，仅显示这一次；下次登录须修改")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewOperator(_Strict):
    staff_id: StaffId
    body: BodyId
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    display_name: DisplayName | None = None


class RolesRequest(_Strict):
    roles: list[Role] = Field(min_length=1, max_length=len(Role))


class BodyRequest(_Strict):
    body: BodyId


# --- refusals ---------------------------------------------------------------------------------

_STATUS: dict[RefusalKind, ProblemType] = {
    RefusalKind.unknown_operator: NOT_FOUND,
    RefusalKind.duplicate_staff_id: CONFLICT,
    RefusalKind.unchanged: CONFLICT,
    RefusalKind.no_admin_left: CONFLICT,
    # Well-formed, but not with this body (or, for a change, with the operator as stored): a
    # conflict with the rules, not a malformed request.
    RefusalKind.roles_do_not_fit_body: CONFLICT,
}


def refusal_problem(refusal: Refusal) -> ProblemError:
    return ProblemError(
        _STATUS[refusal.kind], refusal.message, extensions={"reason": refusal.kind.value}
    )


def logged(applied: Applied) -> Applied:
    record = applied.record
    # Staff ids only (DESIGN: officials appear by staff id); never a password.
    log.info("operator.changed", action=record.action, staff_id=record.staff_id, actor=record.actor)
    return applied


def _answer(outcome: Applied | Refusal) -> Changed:
    if isinstance(outcome, Refusal):
        raise refusal_problem(outcome)
    logged(outcome)
    return Changed(
        operator=OperatorView.of(outcome.change.after), change=ChangeView.of(outcome.record)
    )


def _answer_with_password(request: Request, outcome: Applied | Refusal) -> Response:
    changed = _answer(outcome)
    assert isinstance(outcome, Applied) and outcome.password is not None
    # Shown once: never kept in the idempotency file for replay, never in a cache.
    request.scope[IDEMPOTENCY_DISCARD] = True
    body = ChangedWithPassword(**changed.model_dump(), temporary_password=outcome.password)
    status = 201 if outcome.change.action == "created" else 200
    return Response(body.model_dump_json(), status, headers=NO_STORE, media_type="application/json")


# --- JSON API ---------------------------------------------------------------------------------

api = APIRouter(prefix="/admin", tags=["operators"])


@api.get("/operators", summary="Operators of this service", response_model=list[OperatorView])
async def list_operators(
    request: Request, _: Operator = Depends(require_roles(Role.ADMIN))
) -> list[OperatorView]:
    return [
        OperatorView.of(op)
        for op in await run_in_threadpool(get_context(request).identity.operators)
    ]


@api.get(
    "/operator-changes",
    summary=f"The record of changes to operators, newest first (the latest {RECORD_LIMIT})",
    response_model=list[ChangeView],
)
async def list_changes(
    request: Request, _: Operator = Depends(require_roles(Role.ADMIN))
) -> list[ChangeView]:
    records = await run_in_threadpool(get_context(request).identity.changes, None, RECORD_LIMIT)
    return [ChangeView.of(r) for r in records]


@api.get(
    "/operators/{staff_id}/changes",
    summary="One operator's entries in the record of changes, newest first",
    response_model=list[ChangeView],
)
async def operator_changes(
    request: Request, staff_id: PathStaffId, _: Operator = Depends(require_roles(Role.ADMIN))
) -> list[ChangeView]:
    identity = get_context(request).identity
    records = await run_in_threadpool(identity.changes, staff_id, RECORD_LIMIT)
    return [ChangeView.of(r) for r in records]


@api.post(
    "/operators/create",
    status_code=201,
    summary="Create an operator with a temporary password (changed at the first sign-in)",
    response_model=ChangedWithPassword,
)
async def create_operator(
    request: Request, body: NewOperator, admin: Operator = Depends(command(Role.ADMIN))
) -> Response:
    identity = get_context(request).identity
    outcome = await get_context(request).signin_guard.gate.run(
        identity.create, body.staff_id, body.body, body.roles, admin.staff_id, body.display_name
    )
    return _answer_with_password(request, outcome)


@api.post(
    "/operators/{staff_id}/disable",
    summary="Disable an operator: every token and session stops working at once",
    response_model=Changed,
)
async def disable_operator(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(command(Role.ADMIN))
) -> Changed:
    identity = get_context(request).identity
    return _answer(await run_in_threadpool(identity.disable, staff_id, admin.staff_id))


@api.post(
    "/operators/{staff_id}/enable",
    summary="Re-enable an operator (old tokens and sessions stay revoked)",
    response_model=Changed,
)
async def enable_operator(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(command(Role.ADMIN))
) -> Changed:
    identity = get_context(request).identity
    return _answer(await run_in_threadpool(identity.enable, staff_id, admin.staff_id))


@api.post(
    "/operators/{staff_id}/reset-password",
    summary="Reset a password: a temporary one, to be changed at the next sign-in",
    response_model=ChangedWithPassword,
)
async def reset_password(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(command(Role.ADMIN))
) -> Response:
    ctx = get_context(request)
    outcome = await ctx.signin_guard.gate.run(ctx.identity.reset_password, staff_id, admin.staff_id)
    return _answer_with_password(request, outcome)


@api.post("/operators/{staff_id}/roles", summary="Set an operator's roles", response_model=Changed)
async def set_roles(
    request: Request,
    staff_id: PathStaffId,
    body: RolesRequest,
    admin: Operator = Depends(command(Role.ADMIN)),
) -> Changed:
    identity = get_context(request).identity
    outcome = await run_in_threadpool(identity.set_roles, staff_id, body.roles, admin.staff_id)
    return _answer(outcome)


@api.post(
    "/operators/{staff_id}/body",
    summary="Move an operator to another body or unit (unit:<id>)",
    response_model=Changed,
)
async def set_body(
    request: Request,
    staff_id: PathStaffId,
    body: BodyRequest,
    admin: Operator = Depends(command(Role.ADMIN)),
) -> Changed:
    identity = get_context(request).identity
    outcome = await run_in_threadpool(identity.set_body, staff_id, body.body, admin.staff_id)
    return _answer(outcome)


# --- the admin page ---------------------------------------------------------------------------

pages = APIRouter(include_in_schema=False)
_FIELD_LABELS = {"staff_id": "工号", "body": "所属机构", "roles": "角色", "display_name": "姓名"}


async def _render(
    request: Request,
    *,
    error: str | None = None,
    issued: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = get_context(request)
    operators = await run_in_threadpool(ctx.identity.operators)
    changes = await run_in_threadpool(ctx.identity.changes, None, RECORD_LIMIT)
    return ctx.pages.render(
        request,
        "admin_operators.html",
        {
            "operators": operators,
            "changes": [ChangeView.of(r) for r in changes],
            "roles": list(Role),
            "role_labels": ROLE_LABELS,
            "action_labels": ACTION_LABELS,
            "error": error,
            "issued": issued,
        },
        status_code=status_code,
        headers=NO_STORE if issued else None,
    )


async def _refused_page(request: Request, refusal: Refusal) -> Response:
    problem = _STATUS[refusal.kind]
    return await _render(request, error=refusal.message, status_code=problem.status)


def _invalid_fields(exc: ValidationError) -> str:
    names = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    labels = [label for field, label in _FIELD_LABELS.items() if field in names]
    return "以下各项填写不符合要求：" + "、".join(labels or ["表单"])


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {
        key: str(value).strip()
        for key in ("staff_id", "body", "display_name")
        if isinstance(value := form.get(key), str) and value.strip()
    }
    out["roles"] = [r for r in form.getlist("roles") if isinstance(r, str)]
    return out


async def _after(request: Request, outcome: Applied | Refusal) -> Response:
    if isinstance(outcome, Refusal):
        return await _refused_page(request, outcome)
    logged(outcome)
    return RedirectResponse(PAGE_PATH, status_code=303)


async def _after_password(request: Request, outcome: Applied | Refusal) -> Response:
    if isinstance(outcome, Refusal):
        return await _refused_page(request, outcome)
    assert outcome.password is not None
    logged(outcome)
    issued = {"staff_id": outcome.change.staff_id, "password": outcome.password}
    return await _render(request, issued=issued, status_code=200)


@pages.get(PAGE_PATH)
async def operators_page(request: Request, _: Operator = Depends(page(Role.ADMIN))) -> Response:
    return await _render(request)


@pages.post(PAGE_PATH + "/create")
async def create_from_form(
    request: Request, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    try:
        new = NewOperator.model_validate(await _form(request))
    except ValidationError as exc:
        return await _render(request, error=_invalid_fields(exc), status_code=422)
    ctx = get_context(request)
    outcome = await ctx.signin_guard.gate.run(
        ctx.identity.create, new.staff_id, new.body, new.roles, admin.staff_id, new.display_name
    )
    return await _after_password(request, outcome)


@pages.post(PAGE_PATH + "/{staff_id}/disable")
async def disable_from_form(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    identity = get_context(request).identity
    return await _after(
        request, await run_in_threadpool(identity.disable, staff_id, admin.staff_id)
    )


@pages.post(PAGE_PATH + "/{staff_id}/enable")
async def enable_from_form(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    identity = get_context(request).identity
    return await _after(request, await run_in_threadpool(identity.enable, staff_id, admin.staff_id))


@pages.post(PAGE_PATH + "/{staff_id}/reset-password")
async def reset_from_form(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    ctx = get_context(request)
    outcome = await ctx.signin_guard.gate.run(ctx.identity.reset_password, staff_id, admin.staff_id)
    return await _after_password(request, outcome)


@pages.post(PAGE_PATH + "/{staff_id}/roles")
async def roles_from_form(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    try:
        wanted = RolesRequest.model_validate({"roles": (await _form(request))["roles"]})
    except ValidationError as exc:
        return await _render(request, error=_invalid_fields(exc), status_code=422)
    identity = get_context(request).identity
    outcome = await run_in_threadpool(identity.set_roles, staff_id, wanted.roles, admin.staff_id)
    return await _after(request, outcome)


@pages.post(PAGE_PATH + "/{staff_id}/body")
async def body_from_form(
    request: Request, staff_id: PathStaffId, admin: Operator = Depends(page(Role.ADMIN))
) -> Response:
    try:
        wanted = BodyRequest.model_validate({"body": (await _form(request)).get("body")})
    except ValidationError as exc:
        return await _render(request, error=_invalid_fields(exc), status_code=422)
    identity = get_context(request).identity
    outcome = await run_in_threadpool(identity.set_body, staff_id, wanted.body, admin.staff_id)
    return await _after(request, outcome)


router = APIRouter()
router.include_router(api)
router.include_router(pages)
