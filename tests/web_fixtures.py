"""Helpers for the web scaffold's tests: real apps on temporary var dirs, cheap argon2 so the
suite stays light, demo passwords read back from the file the app wrote, log capture."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from shared.readiness import CheckFunction, ReadinessCheck
from shared.web import WebSettings, create_app

DEMO_BODY: dict[str, Any] = {
    "title": "窗口无人",
    "count": 3,
    "due": "2026-11-26",
    "urgency": "urgent",
    "tags": ["窗口", "暗访"],
    "contact": {"channel": "web", "reference": "W-1"},
}


def fast_settings(var_dir: Path, **overrides: Any) -> WebSettings:
    values: dict[str, Any] = {
        "var_dir": var_dir,
        # The cheapest argon2id argon2-cffi accepts: tests hash 8 demo passwords per app.
        "password_time_cost": 1,
        "password_memory_kib": 64,
        "password_parallelism": 1,
        "idempotency_wait_seconds": 3.0,
    }
    values.update(overrides)
    return WebSettings(**values)


def build_app(
    var_dir: Path,
    service: str = "testsvc",
    routers: Sequence[APIRouter] = (),
    readiness_checks: Sequence[ReadinessCheck | CheckFunction] = (),
    clock: Callable[[], float] | None = None,
    **overrides: Any,
) -> FastAPI:
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    return create_app(
        service,
        fast_settings(var_dir, **overrides),
        routers=routers,
        readiness_checks=readiness_checks,
        **kwargs,
    )


def demo_passwords(app: FastAPI) -> dict[str, str]:
    ctx = app.state.ledger
    text = ctx.settings.demo_operators_file(ctx.service).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {row[0]: row[1] for row in rows}


def client(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", **kwargs
    )


async def token_for(c: httpx.AsyncClient, app: FastAPI, staff_id: str) -> str:
    r = await c.post(
        "/auth/token", json={"staff_id": staff_id, "password": demo_passwords(app)[staff_id]}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def assert_problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["type"] == f"https://ledger.example/problems/{slug}", body
    assert body["status"] == status
    assert body["title"]
    assert body["correlation_id"] == r.headers["x-request-id"]
    return body


def log_lines(captured: str) -> list[dict[str, Any]]:
    """The JSON lines structlog wrote to stdout (other prints are skipped)."""
    out = []
    for line in captured.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def assert_absent(values: Iterable[str], *texts: str) -> None:
    for value in values:
        for text in texts:
            assert value not in text, f"submitted value {value!r} echoed"


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token field in the form"
    return match.group(1)


async def sign_in_page(c: httpx.AsyncClient, app: FastAPI, staff_id: str) -> httpx.Response:
    """Signs a browser-like client in through the form; returns the final page."""
    form = await c.get("/signin", headers={"accept": "text/html"})
    assert form.status_code == 200
    r = await c.post(
        "/signin",
        data={
            "staff_id": staff_id,
            "password": demo_passwords(app)[staff_id],
            "csrf_token": csrf_from(form.text),
            "next": "/",
        },
        headers={"accept": "text/html"},
    )
    assert r.status_code == 303, r.text
    return r
