"""Metrics count requests per route template, never per raw path."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends

from shared.web import Operator, Role, require_roles
from shared.web.demo_operators import demo_staff_id
from tests.web_fixtures import bearer, build_app, client, token_for


def case_router() -> APIRouter:
    router = APIRouter()

    @router.get("/cases/{case_id}")
    async def get_case(case_id: str, _: Operator = Depends(require_roles())) -> dict[str, str]:
        if case_id == "broken":
            raise RuntimeError("boom")
        return {"case": case_id}

    return router


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_requests_are_counted_per_route_template(tmp_path: Path) -> None:
    app = build_app(tmp_path, routers=[case_router()])
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.AUDITOR))
        for case in ("C-2026-0001", "C-2026-0002", "C-2026-0003"):
            assert (await c.get(f"/cases/{case}", headers=bearer(token))).status_code == 200
        await c.get("/cases/broken", headers=bearer(token))
        await c.get("/cases/C-2026-0004")  # refused: no token
        await c.get("/no/such/route-9")
        r = await c.get("/metrics")
    text = r.text
    assert r.headers["content-type"].startswith("text/plain")
    route = {"route": "/cases/{case_id}", "method": "GET"}
    assert sample(text, "ledger_http_requests_total", status="200", **route) == 3
    assert sample(text, "ledger_http_requests_total", status="500", **route) == 1
    assert sample(text, "ledger_http_requests_total", status="401", **route) == 1
    assert sample(text, "ledger_http_server_errors_total", **route) == 1
    assert sample(text, "ledger_http_request_duration_seconds_count", **route) == 5
    assert sample(text, "ledger_http_requests_total", route="<unmatched>", status="404") == 1
    assert "C-2026" not in text and "route-9" not in text


async def test_two_apps_in_one_process_keep_their_own_counts(tmp_path: Path) -> None:
    a = build_app(tmp_path / "a", service="alpha")
    b = build_app(tmp_path / "b", service="beta")
    async with client(a) as ca, client(b) as cb:
        await ca.get("/healthz")
        await ca.get("/healthz")
        await cb.get("/healthz")
        text_a = (await ca.get("/metrics")).text
        text_b = (await cb.get("/metrics")).text
    assert sample(text_a, "ledger_http_requests_total", route="/healthz", service="alpha") == 2
    assert sample(text_b, "ledger_http_requests_total", route="/healthz", service="beta") == 1
    assert 'service="alpha"' not in text_b
