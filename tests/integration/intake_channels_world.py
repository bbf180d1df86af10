"""What the intake channel tests share: a ledger made by ``ledger init`` with the shipped
default configuration published (as ``make run`` does), an intake app on it, and the log read
back through the rule book (only accepted events count)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from services.intake.app import create
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.keystore import genesis_public
from shared.ledger.reader import registry_fold
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.rules.stream import REGISTRY_STREAM
from shared.web.settings import WebSettings
from tests.browser.chromium import FAST
from tests.integration.web_servers import ServiceProcess, start_service
from tests.web_fixtures import client, csrf_from, fast_settings, sign_in_page

HTML = {"accept": "text/html"}
RECEIVED = "ledger.complaint.received.v1"
NUMBER = r"TSXNB-[0-9A-F]{12}"


async def made_ledger(var_dir: Path, **overrides: Any) -> tuple[WebSettings, EventLog]:
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0, **overrides)
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings)
    return settings, log


async def accepted(log: EventLog, settings: WebSettings) -> list[dict[str, Any]]:
    """Every event of the log the rule book accepts, as stored (envelopes)."""
    head = await log.head()
    fold = await registry_fold(log, genesis_public(settings), until=head)
    out = []
    async for rec in read_all(log, until=head):
        if rec.stream != REGISTRY_STREAM and fold.apply(rec).accepted:
            out.append(orjson.loads(rec.record))
    return out


async def accepted_of(log: EventLog, settings: WebSettings, type_: str) -> list[dict[str, Any]]:
    return [e for e in await accepted(log, settings) if e["type"] == type_]


@dataclass
class IntakeWorld:
    settings: WebSettings
    log: EventLog
    app: FastAPI

    async def head(self) -> dict[int, int]:
        return await self.log.head()

    async def received(self) -> list[dict[str, Any]]:
        return await accepted_of(self.log, self.settings, RECEIVED)


async def intake_world(var_dir: Path, **overrides: Any) -> AsyncIterator[IntakeWorld]:
    settings, log = await made_ledger(var_dir, **overrides)
    app = create(settings)
    try:
        async with app.router.lifespan_context(app):
            yield IntakeWorld(settings, log, app)
    finally:
        await log.close()


@contextlib.asynccontextmanager
async def signed_in(app: FastAPI, staff_id: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app) as browser:
        await sign_in_page(browser, app, staff_id)
        yield browser


async def csrf_of(c: httpx.AsyncClient, path: str) -> str:
    page = await c.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def receipt_of(html: str) -> tuple[str, str]:
    number = re.search(rf'class="case-no">({NUMBER})<', html)
    code = re.search(r'class="tracking-code">([0-9A-Z-]{19})<', html)
    assert number and code, html
    return number[1], code[1]


def form_key() -> str:
    import uuid

    return str(uuid.uuid4())


# -- a running intake process (real HTTP) -----------------------------------------------------


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[ServiceProcess, Any]]:
    var = tmp_path / "var"
    settings, log = asyncio.run(made_ledger(var))
    asyncio.run(log.close())
    s = start_service("intake", var, {**FAST, "LEDGER_PUBLIC_RATE_LIMIT": "1000/minute"})
    try:
        yield s, settings
    finally:
        s.stop()


def accepted_now(settings: Any, type_: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        log = await open_log(settings)
        try:
            return await accepted_of(log, settings, type_)
        finally:
            await log.close()

    return asyncio.run(read())


def head_now(settings: Any) -> dict[int, int]:
    async def read() -> dict[int, int]:
        log = await open_log(settings)
        try:
            return await log.head()
        finally:
            await log.close()

    return asyncio.run(read())


def issue_open311_key(http: httpx.Client, server: ServiceProcess, client_name: str) -> str:
    password = server.demo_passwords()["demo-admin"]
    token = http.post("/auth/token", json={"staff_id": "demo-admin", "password": password})
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    issued = http.post("/admin/open311/keys", json={"client": client_name}, headers=auth)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    return str(issued.json()["api_key"])
