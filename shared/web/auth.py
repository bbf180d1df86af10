"""Who may call what: bearer-token authentication for the API, the one-per-route role check,
the ``public`` marker, and the start-up audit that every route has one or the other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.web.context import OPERATOR, get_context
from shared.web.identity import Operator
from shared.web.problems import (
    FORBIDDEN,
    PASSWORD_CHANGE_REQUIRED,
    UNAUTHENTICATED,
    ProblemError,
)
from shared.web.roles import Role
from shared.web.routes import served_api_routes

# Attribute set on every dependency that establishes who is calling; the audit looks for it.
AUTH_MARK = "__ledger_auth__"
# Set on command dependencies (idempotent, state-changing), for the OpenAPI document.
COMMAND_MARK = "__ledger_command__"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="Opaque token from POST /auth/token",
)


def public() -> None:
    """Marker dependency: this route is deliberately open to anyone."""


def _refuse_bearer(detail: str, error: str | None = None) -> ProblemError:
    challenge = 'Bearer realm="ledger"' + (f', error="{error}"' if error else "")
    return ProblemError(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": challenge})


def authenticated(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> Operator:
    """The operator a bearer token belongs to (sync: FastAPI runs it in a worker thread, since
    it reads SQLite)."""
    if credentials is None:
        raise _refuse_bearer("需要 Authorization: Bearer 令牌")
    resolved = get_context(request).identity.resolve("bearer", credentials.credentials)
    if resolved is None:
        raise _refuse_bearer("令牌无效、已过期或已撤销", "invalid_token")
    if resolved.operator.must_change_password:
        # None is issued while a change is pending (tokens.py); this covers one issued before
        # a flag set outside the administrative path, which revokes them all.
        raise ProblemError(PASSWORD_CHANGE_REQUIRED, "请先在登录页面修改密码")
    request.scope[OPERATOR] = resolved.operator
    return resolved.operator


setattr(authenticated, AUTH_MARK, "bearer")


def role_set(roles: Iterable[Role | str]) -> frozenset[Role]:
    # Role(...) raises on a misspelt role at import time, not at the first request.
    return frozenset(Role(r) for r in roles)


def check_roles(operator: Operator, wanted: frozenset[Role]) -> None:
    if wanted and not operator.has_any(wanted):
        raise ProblemError(FORBIDDEN, "需要以下角色之一：" + "、".join(sorted(wanted)))


def require_roles(*roles: Role | str) -> Callable[..., Awaitable[Operator]]:
    """API route dependency: a valid bearer token holding any of ``roles`` (none: any operator).
    Declare it once per route, e.g. ``Depends(require_roles(Role.DISPATCH_OFFICER))``."""
    wanted = role_set(roles)

    # Async (it does no I/O): a sync dependency would cost a worker-thread round trip.
    async def dependency(operator: Operator = Depends(authenticated)) -> Operator:
        check_roles(operator, wanted)
        return operator

    setattr(dependency, AUTH_MARK, "bearer")
    dependency.__name__ = "require_roles_" + "_".join(sorted(wanted) or ["any"])
    return dependency


def _calls(dependant: Dependant) -> Iterable[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def route_access(dependant: Dependant) -> str | None:
    """'public', the auth kind, or None when the route declares neither."""
    for call in _calls(dependant):
        if call is public:
            return "public"
        mark = getattr(call, AUTH_MARK, None)
        if mark:
            return str(mark)
    return None


def audit_routes(app: FastAPI) -> None:
    """Refuse to build an app with a route that is neither signed-in nor marked public: a
    forgotten dependency must fail at start-up, not open a hole."""
    open_routes = [
        f"{sorted(served.methods)} {served.path}"
        for served in served_api_routes(app)
        if route_access(served.dependant) is None
    ]
    if open_routes:
        raise RuntimeError(
            "routes without sign-in and not marked public (add Depends(require_roles(...)),"
            " Depends(command(...)), Depends(page(...)) or Depends(public)): "
            + ", ".join(open_routes)
        )
