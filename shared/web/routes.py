"""The app's routes as they are served. Recent FastAPI keeps included routers lazily (the
app's ``routes`` list holds the routers, not their routes) and applies include-time prefixes
and dependencies in a per-route context; these helpers read that context when it exists and
fall back to plain routes on FastAPI versions without it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from starlette.types import Scope


@dataclass(frozen=True)
class ServedRoute:
    path: str
    methods: frozenset[str]
    route: APIRoute
    dependant: Any
    include_in_schema: bool


def served_api_routes(app: FastAPI) -> Iterator[ServedRoute]:
    iter_contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if iter_contexts is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield ServedRoute(
                    route.path,
                    frozenset(route.methods or ()),
                    route,
                    route.dependant,
                    route.include_in_schema,
                )
        return
    for ctx in iter_contexts(app.routes):
        original = ctx.original_route
        if not isinstance(original, APIRoute):
            continue
        yield ServedRoute(
            str(ctx.path_format or ctx.path or original.path),
            frozenset(ctx.methods or original.methods or ()),
            original,
            getattr(ctx, "dependant", None) or original.dependant,
            bool(getattr(ctx, "include_in_schema", original.include_in_schema)),
        )


def _effective_context(scope: Scope) -> Any:
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        return fastapi_scope.get("effective_route_context")
    return None


def matched_template(scope: Scope) -> str | None:
    """The template of the route that answered ("/cases/{case_id}"), or None."""
    for holder in (_effective_context(scope), scope.get("route")):
        path = getattr(holder, "path_format", None) or getattr(holder, "path", None)
        if isinstance(path, str) and path:
            return path
    return None


def matched_dependant(scope: Scope) -> Any:
    for holder in (_effective_context(scope), scope.get("route")):
        dependant = getattr(holder, "dependant", None)
        if dependant is not None:
            return dependant
    return None
