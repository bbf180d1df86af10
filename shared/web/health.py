"""Liveness and readiness. Readiness checks are supplied by the caller (the log, the store, the
projector's lag), so the scaffold knows nothing of them: each is an async callable returning a
:class:`CheckResult` (``shared/readiness.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from shared.readiness import CheckResult, ReadinessCheck
from shared.web.auth import public
from shared.web.context import get_context
from shared.web.problems import NOT_READY, PROBLEM_MEDIA_TYPE, problem_response


async def _run_one(check: ReadinessCheck, timeout: float) -> dict[str, Any]:
    try:
        result = await asyncio.wait_for(check.check(), timeout)
    except TimeoutError:
        return {"name": check.name, "ok": False, "reason": f"no answer within {timeout:g} s"}
    except Exception as exc:
        # The kind only: the message could hold anything.
        return {"name": check.name, "ok": False, "reason": f"failed: {type(exc).__name__}"}
    if isinstance(result, CheckResult):
        return {"name": check.name, "ok": result.ok, "reason": result.reason}
    return {"name": check.name, "ok": bool(result), "reason": ""}


async def run_checks(checks: Sequence[ReadinessCheck], timeout: float) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(_run_one(c, timeout) for c in checks)))


_STATUS_SCHEMA = {
    "type": "object",
    "properties": {"status": {"type": "string"}, "service": {"type": "string"}},
    "required": ["status", "service"],
}
_READY_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string"},
        "service": {"type": "string"},
        "checks": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["status", "service", "checks"],
}

router = APIRouter(tags=["health"], dependencies=[Depends(public)])


@router.get(
    "/healthz",
    summary="Liveness: the process answers",
    responses={200: {"content": {"application/json": {"schema": _STATUS_SCHEMA}}}},
)
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": get_context(request).service})


@router.get(
    "/readyz",
    summary="Readiness: every readiness check passes",
    responses={
        200: {"content": {"application/json": {"schema": _READY_SCHEMA}}},
        503: {
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        },
    },
)
async def readyz(request: Request) -> Response:
    ctx = get_context(request)
    results = await run_checks(ctx.readiness_checks, ctx.settings.readiness_timeout_seconds)
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        return problem_response(
            request,
            NOT_READY,
            "未通过的检查：" + "、".join(failed),
            extensions={"checks": results},
        )
    return JSONResponse({"status": "ready", "service": ctx.service, "checks": results})


# HEAD answers like GET without a body (load balancers and uptime probes use it); kept out of
# the OpenAPI document, where it would repeat the GET operation.
for _path, _endpoint in (("/healthz", healthz), ("/readyz", readyz)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)
