"""The OpenAPI document tells the truth about refusals: every one is problem+json, the 422 is
our masked shape (not FastAPI's, which echoes input), and signed-in and command routes list
their 401/403/409/415 answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.web.auth import COMMAND_MARK, route_access
from shared.web.problems import CATALOGUE, PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from shared.web.routes import served_api_routes

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. `type` is one of: "
    + ", ".join(PROBLEM_BASE + p.slug for p in CATALOGUE),
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "correlation_id": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
_VALIDATION_SCHEMA: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "location": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                        "required": ["location", "code", "message"],
                    },
                }
            },
        },
    ]
}


def _problem(description: str, schema: str = "Problem") -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _is_command(dependant: Any) -> bool:
    stack = [dependant]
    while stack:
        dep = stack.pop()
        if getattr(dep.call, COMMAND_MARK, False):
            return True
        stack.extend(dep.dependencies)
    return False


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = _PROBLEM_SCHEMA
    components["ValidationProblem"] = _VALIDATION_SCHEMA
    dependants = {
        (served.path, method.lower()): served.dependant
        for served in served_api_routes(app)
        if served.include_in_schema
        for method in served.methods
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            dependant = dependants.get((path, method))
            if "422" in responses or method in ("post", "put", "patch", "delete"):
                responses["422"] = _problem("请求内容不符合要求", "ValidationProblem")
            if dependant is not None and route_access(dependant) in ("bearer", "session"):
                responses.setdefault("401", _problem("未登录或令牌无效"))
                responses.setdefault("403", _problem("无权执行此操作"))
            if dependant is not None and _is_command(dependant):
                responses.setdefault("409", _problem("幂等键冲突"))
                responses.setdefault("415", _problem("不支持的内容类型"))
            if method in ("post", "put", "patch"):
                responses.setdefault("413", _problem("请求内容过大"))
            # Any other refusal (404, 405, 500, 503…) is a problem too.
            responses.setdefault("default", _problem("其他错误"))
    app.openapi_schema = schema
    return schema
