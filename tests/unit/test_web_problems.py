"""Errors leak nothing: every refusal is problem+json, and no submitted value appears in an
error body or a log line — checked for every field type."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, HTTPException, Query

from services.dispatch.app import create as create_dispatch
from shared.web import CheckResult, Operator, ReadinessCheck, Role, require_roles
from shared.web.auth import public
from shared.web.demo_operators import demo_staff_id
from tests.web_fixtures import (
    DEMO_BODY,
    assert_absent,
    assert_problem,
    bearer,
    build_app,
    client,
    fast_settings,
    log_lines,
    token_for,
)

OFFICER = demo_staff_id(Role.DISPATCH_OFFICER)
SUPPORT_ID = "0b6f4c1e-2f0a-4d8e-9d57-5a1f0c3b7e21"

# (field type, the bad body, the submitted values that must not come back, expected location)
BAD_BODIES: list[tuple[str, dict[str, Any], list[str], list[str | int]]] = [
    (
        "string",
        {**DEMO_BODY, "title": "SECRET_STR_" * 30},
        ["SECRET_STR_"],
        ["body", "title"],
    ),
    ("string-type", {**DEMO_BODY, "title": 73914682}, ["73914682"], ["body", "title"]),
    ("int", {**DEMO_BODY, "count": "SECRET_INT_4471"}, ["SECRET_INT_4471"], ["body", "count"]),
    ("int-range", {**DEMO_BODY, "count": 987654321}, ["987654321"], ["body", "count"]),
    ("date", {**DEMO_BODY, "due": "SECRET_DATE_9"}, ["SECRET_DATE_9"], ["body", "due"]),
    ("date-value", {**DEMO_BODY, "due": "2026-13-47"}, ["2026-13-47"], ["body", "due"]),
    ("enum", {**DEMO_BODY, "urgency": "SECRET_ENUM_X"}, ["SECRET_ENUM_X"], ["body", "urgency"]),
    ("list", {**DEMO_BODY, "tags": "SECRET_LIST_Y"}, ["SECRET_LIST_Y"], ["body", "tags"]),
    (
        "list-item",
        {**DEMO_BODY, "tags": ["ok", 55512309]},
        ["55512309"],
        ["body", "tags", 1],
    ),
    (
        "list-length",
        {**DEMO_BODY, "tags": [f"SECRET_TAG_{i}" for i in range(11)]},
        ["SECRET_TAG_"],
        ["body", "tags"],
    ),
    (
        "nested",
        {**DEMO_BODY, "contact": {"channel": "SECRET_CHAN", "reference": "R"}},
        ["SECRET_CHAN"],
        ["body", "contact", "channel"],
    ),
    (
        "nested-string",
        {**DEMO_BODY, "contact": {"channel": "web", "reference": "SECRET_REF_" * 9}},
        ["SECRET_REF_"],
        ["body", "contact", "reference"],
    ),
    (
        "nested-type",
        {**DEMO_BODY, "contact": "SECRET_CONTACT"},
        ["SECRET_CONTACT"],
        ["body", "contact"],
    ),
    (
        "unknown-field",
        {**DEMO_BODY, "SECRET_FIELD_NAME": "SECRET_FIELD_VALUE"},
        ["SECRET_FIELD_NAME", "SECRET_FIELD_VALUE"],
        ["body", "*"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "secrets", "location"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
async def test_bad_body_echoes_no_submitted_value(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    body: dict[str, Any],
    secrets: list[str],
    location: list[str | int],
) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        capsys.readouterr()
        r = await c.post("/api/demo/commands", json=body, headers=bearer(token, f"k-{kind}"))
    problem = assert_problem(r, 422, "validation")
    assert location in [e["location"] for e in problem["errors"]], problem
    for error in problem["errors"]:
        assert set(error) == {"location", "code", "message"}
    out = capsys.readouterr().out
    lines = log_lines(out)
    assert any(line["event"] == "request.invalid" for line in lines)
    assert_absent(secrets, r.text, out)


async def test_all_fields_wrong_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    body = {
        "title": ["SECRET_A"],
        "count": "SECRET_B",
        "due": "SECRET_C",
        "urgency": "SECRET_D",
        "tags": {"SECRET_E": "SECRET_F"},
        "contact": {"channel": "SECRET_G", "reference": 12, "SECRET_H": 1},
    }
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        capsys.readouterr()
        r = await c.post("/api/demo/commands", json=body, headers=bearer(token, "all"))
    problem = assert_problem(r, 422, "validation")
    assert len(problem["errors"]) >= 7
    assert_absent([f"SECRET_{x}" for x in "ABCDEFGH"], r.text, capsys.readouterr().out)


def dict_router() -> APIRouter:
    router = APIRouter()

    @router.post("/scores")
    async def scores(
        scores: dict[str, int], _: Operator = Depends(require_roles())
    ) -> dict[str, int]:
        return scores

    @router.get("/search")
    async def search(
        page: int = Query(ge=1), _: Operator = Depends(require_roles())
    ) -> dict[str, int]:
        return {"page": page}

    @router.get("/leaky")
    async def leaky(_: Operator = Depends(require_roles())) -> None:
        raise HTTPException(status_code=409, detail="case SECRET_DETAIL already closed")

    @router.get("/boom")
    async def boom(_: Operator = Depends(require_roles())) -> None:
        raise RuntimeError("password=SECRET_EXC for demo-admin")

    return router


async def test_dict_keys_query_values_and_json_syntax_are_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(tmp_path, routers=[dict_router()])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        capsys.readouterr()
        keyed = await c.post(
            "/scores", json={"SECRET_KEY_1": "SECRET_VAL_1"}, headers=bearer(token)
        )
        query = await c.get("/search?page=SECRET_QUERY_2", headers=bearer(token))
        syntax = await c.post(
            "/scores",
            content=b'{"a": SECRET_JSON_3',
            headers={**bearer(token), "content-type": "application/json"},
        )
    assert assert_problem(keyed, 422, "validation")["errors"][0]["location"] == ["body", "*"]
    assert assert_problem(query, 422, "validation")["errors"][0]["location"] == ["query", "page"]
    assert assert_problem(syntax, 422, "validation")["errors"][0]["code"] == "json_invalid"
    out = capsys.readouterr().out
    assert_absent(
        ["SECRET_KEY_1", "SECRET_VAL_1", "SECRET_QUERY_2", "SECRET_JSON_3"],
        keyed.text,
        query.text,
        syntax.text,
        out,
    )


async def test_http_exception_detail_is_not_echoed(tmp_path: Path) -> None:
    app = build_app(tmp_path, routers=[dict_router()])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        r = await c.get("/leaky", headers=bearer(token))
    assert_problem(r, 409, "conflict")
    assert "SECRET" not in r.text


async def test_unexpected_error_is_a_500_with_correlation_id_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(tmp_path, routers=[dict_router()])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        capsys.readouterr()
        r = await c.get("/boom", headers={**bearer(token), "X-Request-ID": SUPPORT_ID})
    body = assert_problem(r, 500, "internal")
    assert body["correlation_id"] == SUPPORT_ID
    assert set(body) == {"type", "title", "status", "correlation_id"}
    assert "Traceback" not in r.text and "RuntimeError" not in r.text and "SECRET" not in r.text
    out = capsys.readouterr().out
    failed = [line for line in log_lines(out) if line["event"] == "request.failed"]
    assert failed and failed[0]["request_id"] == SUPPORT_ID
    assert failed[0]["error_kind"] == "RuntimeError"
    assert "SECRET_EXC" not in out and "Traceback" not in out


async def test_refusals_are_problems(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path, max_body_bytes=2048))
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        not_found = await c.get("/cases/SECRET-404")
        not_allowed = await c.put("/healthz")
        too_large = await c.post(
            "/api/demo/commands",
            json={**DEMO_BODY, "title": "x" * 5000},
            headers=bearer(token, "big"),
        )
        media = await c.post(
            "/api/demo/commands",
            content=b"title=x",
            headers={**bearer(token, "m"), "content-type": "text/plain"},
        )
    assert_problem(not_found, 404, "not-found")
    assert "SECRET" not in not_found.text
    assert_problem(not_allowed, 405, "method-not-allowed")
    assert "GET" in not_allowed.headers["allow"]
    assert_problem(too_large, 413, "payload-too-large")
    assert_problem(media, 415, "unsupported-media-type")


async def test_body_limit_holds_without_content_length(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path, max_body_bytes=2048))

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(8):
            yield b'{"title": "' + b"x" * 1000

    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        r = await c.post(
            "/api/demo/commands",
            content=chunks(),
            headers={**bearer(token, "stream"), "content-type": "application/json"},
        )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload-too-large")


async def test_request_id_is_honoured_only_as_a_uuid(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        kept = await c.get("/healthz", headers={"X-Request-ID": SUPPORT_ID.upper()})
        compact = await c.get("/healthz", headers={"X-Request-ID": SUPPORT_ID.replace("-", "")})
        replaced = {
            value: await c.get("/healthz", headers={"X-Request-ID": value})
            for value in ("SECRET with spaces", "13812345678", "110101199003074218", "abc-123.x")
        }
        fresh = await c.get("/healthz")
    # Taken in canonical form (lowercase, hyphenated), so it is always the same string.
    assert kept.headers["x-request-id"] == SUPPORT_ID
    assert compact.headers["x-request-id"] == SUPPORT_ID
    for value, r in replaced.items():
        assert value not in r.headers["x-request-id"]
        assert str(uuid.UUID(r.headers["x-request-id"])) == r.headers["x-request-id"]
    assert len({r.headers["x-request-id"] for r in replaced.values()}) == len(replaced)
    assert str(uuid.UUID(fresh.headers["x-request-id"])) == fresh.headers["x-request-id"]


async def test_readiness_names_the_failing_check(tmp_path: Path) -> None:
    state = {"log": True}

    async def log_answers() -> CheckResult:
        return CheckResult(state["log"], "" if state["log"] else "log unreachable")

    async def projector_lag() -> CheckResult:
        return CheckResult(True)

    async def store() -> CheckResult:
        raise ConnectionError("mongodb://user:SECRET@host")

    async def slow() -> CheckResult:
        await asyncio.sleep(5)
        return CheckResult(True)

    app = build_app(
        tmp_path,
        readiness_checks=[log_answers, ReadinessCheck("projector", projector_lag)],
        readiness_timeout_seconds=0.2,
    )
    async with client(app) as c:
        ready = await c.get("/readyz")
        state["log"] = False
        not_ready = await c.get("/readyz")
        healthy = await c.get("/healthz")
    assert ready.status_code == 200
    assert {ch["name"] for ch in ready.json()["checks"]} == {"log_answers", "projector"}
    body = assert_problem(not_ready, 503, "not-ready")
    assert "log_answers" in body["detail"] and "projector" not in body["detail"]
    assert {"name": "log_answers", "ok": False, "reason": "log unreachable"} in body["checks"]
    assert healthy.status_code == 200

    app2 = build_app(tmp_path / "b", readiness_checks=[store, slow], readiness_timeout_seconds=0.2)
    async with client(app2) as c:
        r = await c.get("/readyz")
    body = assert_problem(r, 503, "not-ready")
    reasons = {ch["name"]: ch["reason"] for ch in body["checks"]}
    assert reasons["store"] == "failed: ConnectionError"
    assert reasons["slow"].startswith("no answer within")
    assert "SECRET" not in r.text


async def test_openapi_documents_problems_not_fastapi_422(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        doc = (await c.get("/openapi.json")).json()
    op = doc["paths"]["/api/demo/commands"]["post"]
    assert set(op["responses"]) >= {"201", "401", "403", "409", "413", "415", "422", "default"}
    assert "application/problem+json" in op["responses"]["422"]["content"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= op["parameters"][0].items()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/" not in doc["paths"] and "/signin" not in doc["paths"]


def query_router() -> APIRouter:
    r = APIRouter()

    @r.get("/things", dependencies=[Depends(public)])
    async def things(kind: str = Query("", max_length=10)) -> dict[str, str]:
        return {"kind": kind}

    @r.get("/page", include_in_schema=False, dependencies=[Depends(public)])
    async def a_page() -> dict[str, str]:
        return {"ok": "yes"}

    return r


async def test_an_api_operation_refuses_a_query_parameter_it_does_not_declare(
    tmp_path: Path,
) -> None:
    app = build_app(tmp_path, routers=[query_router()])
    async with client(app) as c:
        assert (await c.get("/things?kind=a")).json() == {"kind": "a"}
        r = await c.get("/things?kind=a&secret-name=secret-value")
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"] == [
            {"location": ["query"], "code": "extra_forbidden", "message": "不允许的查询参数"}
        ]
        assert "secret" not in r.text  # neither the name nor the value is echoed
        # a page (outside the published schema) ignores what a link adds
        assert (await c.get("/page?utm_source=x")).status_code == 200
