"""Unknown query parameters are bad input: an API operation (one in the published schema)
refuses a query parameter it does not declare with a 422 ``validation`` problem, as it refuses
an unknown body field — never silently ignores it. The problem names the query, never the
parameter's name or value (both came from the request). Pages (outside the schema) keep
ignoring what a browser or a link adds."""

from __future__ import annotations

from fastapi import Request
from fastapi._compat import ModelField
from fastapi.routing import APIRoute

from shared.web.problems import VALIDATION, ProblemError

ALWAYS = frozenset({"after"})
"""Read-your-writes' position (shared/web/read_your_writes.py): a client attaches the position a
command answered to its next read, whichever read that is; a read that keeps no read model
has nothing to wait for and ignores it."""

OPEN_QUERY = {"x-ledger-open-query": True}
"""``openapi_extra`` of an operation that reads its query itself under a protocol that tells
servers to ignore what they do not know (Open311 GeoReport v2): exempt from the refusal."""


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameter names (aliases) a route declares, through all its dependencies."""
    out: list[ModelField] = []
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        out.extend(dep.query_params)
        stack.extend(dep.dependencies)
    return frozenset(p.alias for p in out)


async def known_query(request: Request) -> None:
    """The app-wide dependency: 422 for a query parameter the API operation does not declare
    (the route's parameters are walked only when the request has a query at all)."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    if route.openapi_extra and route.openapi_extra.get("x-ledger-open-query"):
        return
    declared = declared_query(route) | ALWAYS
    if any(name not in declared for name in request.query_params):
        error = {"location": ["query"], "code": "extra_forbidden", "message": "不允许的查询参数"}
        raise ProblemError(VALIDATION, extensions={"errors": [error]})
