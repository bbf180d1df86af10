"""The request envelope, outermost around every service: a request id (accepted from
``X-Request-ID`` only when it is a UUID, else new), the body size limit, the catch-all that
turns any unexpected exception into a 500 problem, metrics by route template, and one
access-log line."""

from __future__ import annotations

import re
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import orjson
import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.context import OPERATOR, REQUEST_ID
from shared.web.metrics import UNMATCHED_ROUTE, HttpMetrics
from shared.web.problems import (
    INTERNAL,
    PAYLOAD_TOO_LARGE,
    PROBLEM_MEDIA_TYPE,
    problem_body,
    problem_response,
)
from shared.web.routes import matched_template

log = structlog.get_logger("ledger.web")

# A propagated id is echoed in every response and error body and bound to every log line, so
# only a UUID is taken: any other shape could be an ID or phone number a client put there.
_REQUEST_ID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)


def request_id_from(supplied: str) -> str:
    """The supplied id in canonical form if it is a UUID, else a new random one."""
    if _REQUEST_ID.match(supplied):
        return str(uuid.UUID(supplied))
    return str(uuid.uuid4())


_SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body reader passes it through unchanged (it turns
    other exceptions raised while reading into a 400)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def route_template(scope: Scope) -> str:
    """The matched route's template ("/cases/{case_id}"), never the raw path: raw paths hold
    submitted values and would explode metric cardinality."""
    template = matched_template(scope)
    if template:
        return template
    # Starlette's plain Routes and Mounts (openapi.json, static files) leave only "endpoint".
    endpoint = scope.get("endpoint")
    for route in getattr(scope.get("app"), "routes", ()):
        if endpoint is not None and endpoint in (
            getattr(route, "endpoint", None),
            getattr(route, "app", None),
        ):
            candidate = getattr(route, "path", None)
            if isinstance(candidate, str):
                return candidate or "/"
    return UNMATCHED_ROUTE


def _frames(exc: BaseException) -> list[str]:
    # Where it failed, without the exception's message or local values.
    return [
        f"{Path(f.filename).name}:{f.lineno}:{f.name}"
        for f in traceback.extract_tb(exc.__traceback__)[-12:]
    ]


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_id_from(headers.get("x-request-id", ""))
        scope[REQUEST_ID] = request_id
        status = 0
        started = False
        received = 0
        limit = self.max_body_bytes

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = request_id
                for name, value in _SECURITY_HEADERS:
                    if name not in out:
                        out[name] = value
            await send(message)

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        started_at = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise BodyTooLarge()
                await self.app(scope, receive_wrapper, send_wrapper)
            except BodyTooLarge:
                if not started:
                    await self._answer(scope, receive, send_wrapper, too_large=True)
            except Exception as exc:
                log.error("request.failed", error_kind=type(exc).__name__, frames=_frames(exc))
                if not started:
                    await self._answer(scope, receive, send_wrapper, too_large=False)
                else:
                    status = 500
            finally:
                seconds = time.perf_counter() - started_at
                route = route_template(scope)
                self.metrics.observe(scope["method"], route, status or 500, seconds)
                operator = scope.get(OPERATOR)
                fields: dict[str, Any] = {
                    "method": scope["method"],
                    "route": route,
                    "status": status or 500,
                    "duration_ms": round(seconds * 1000, 2),
                }
                if operator is not None:
                    fields["staff_id"] = operator.staff_id
                (log.error if (status or 500) >= 500 else log.info)("request", **fields)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, *, too_large: bool) -> None:
        request = Request(scope, receive)
        problem = PAYLOAD_TOO_LARGE if too_large else INTERNAL
        response: Response
        try:
            response = problem_response(request, problem)
        except Exception:
            # Even the error page failed: answer the bare problem, still without internals.
            response = Response(
                orjson.dumps(problem_body(request, problem)),
                status_code=problem.status,
                media_type=PROBLEM_MEDIA_TYPE,
            )
        await response(scope, receive, send)
