"""效能考核 through the running oversight service: the ranking API and page on the hand-worked
rates history (``tests/unit/test_rates_fixture.py``), with three versions of the assessment
weights published at chosen log times — the shipped default (October), a version of
25 October in force at November's end, and a version of 1 December in force at December's
and the quarter's end. November ranks the health bureau before market regulation and lists
the transport bureau apart (one case, below the minimum of two); December and the quarter are
ranked by the December version. Once November's figures are signed, its ranking is made from
them (a correction, as after an upheld appeal, changes it). A malformed period is a 422
problem, a period before any weights a 404 problem, and only supervisors read the ranking.

The log is a SQLite log made in this process with its clock set to those dates; the read
model holds the rate documents the rates projection makes of the fixture history (its own
``apply``), written into the app's store."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import shared.log.sqlite as sqlite_log
from services.oversight.app import create as create_oversight
from services.oversight.rates_projection import RATE_ITEMS, RATE_PERIODS
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import decide_publication, in_force, normalized, publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.period_publish import publish as publish_figures
from shared.ledger.signer import Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.reports.periods import SHANGHAI, month_of, period
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.unit.test_rates_fixture import HISTORY, NOVEMBER, H, M, T
from tests.unit.test_rates_projection import project
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

KIND = "assessment_weights"
NOVEMBER_WEIGHTS = {
    "weights": {"reply": 50, "resolution": 50},
    "min_cases": 2,
    "tie_break": ["reply"],
}
DECEMBER_WEIGHTS = {"weights": {"overdue": 1}, "min_cases": 1, "tie_break": []}
HTML = {"accept": "text/html"}


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()) * 1_000_000


@dataclass
class Oversight:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[Role, str]

    def as_(self, role: Role) -> dict[str, str]:
        return bearer(self.tokens[role])


async def publish(settings: WebSettings, content: dict[str, Any]) -> None:
    """A new version of the weights, published by oversight as its admin page would."""
    log = await open_log(settings)
    try:
        oversight = spec("oversight")
        writer = EventWriter(
            log,
            Signer(oversight.deployment, keystore.load(settings, oversight.name)),
            keystore.genesis_public(settings),
        )

        def decide(state: StreamState) -> list[Any]:
            entry = in_force(state.domain, KIND)
            base = entry[0] if entry is not None else "0"
            data = normalized(KIND, content)
            actor = f"{oversight.body}/{demo_staff_id(Role.ADMIN)}"
            return decide_publication(state.domain, KIND, oversight.deployment, base, data, actor)

        result = await writer.submit(REGISTRY_STREAM, decide)
        assert result.accepted, result.refused
    finally:
        await log.close()


@pytest.fixture
async def oversight(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Oversight]:
    settings = fast_settings(tmp_path / "var")
    clock = {"us": us("2026-10-20T09:00")}
    monkeypatch.setattr(sqlite_log, "time", SimpleNamespace(time_ns=lambda: clock["us"] * 1000))
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)  # version 1: the shipped default
    finally:
        await log.close()
    clock["us"] = us("2026-10-25T09:00")
    await publish(settings, NOVEMBER_WEIGHTS)  # version 2
    clock["us"] = us("2026-12-01T09:00")
    await publish(settings, DECEMBER_WEIGHTS)  # version 3
    monkeypatch.undo()  # the app runs on the real clock (after 1 December 2026)
    # The figures are signed by the test (the publisher would sign the log's: it has no cases).
    monkeypatch.setenv("LEDGER_PERIOD_FIGURES_ENABLED", "false")
    app = create_oversight(settings)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(client(app))
        await stack.enter_async_context(app.router.lifespan_context(app))
        store = await app.state.ledger.read_model.store()
        for coll in (RATE_ITEMS, RATE_PERIODS):
            docs = [{"_id": k, **v, "_pos": 1} for k, v in project(HISTORY, coll).items()]
            await store.bulk_upsert(coll, docs)
        roles = (Role.SUPERVISOR, Role.UNIT_HANDLER)
        tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
        yield Oversight(app, http, tokens)


def ranks(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(r["rank"], r["unit"], r["score"]) for r in body["ranked"]]


async def test_ranking_api_by_the_weights_in_force_at_each_periods_end(
    oversight: Oversight,
) -> None:
    o = oversight
    november = await o.http.get("/api/ranking/2026-11", headers=o.as_(Role.SUPERVISOR))
    assert november.status_code == 200, november.text
    body = november.json()
    assert body["configuration"]["version"] == "2"
    assert body["configuration"]["min_cases"] == 2
    assert body["configuration"]["published_at"].startswith("2026-10-25T01:00")  # 09:00 +08
    # H: reply 1/2, resolution 1/2 → 50; M: reply 1/2, resolution 0/2 → 25; T: one case.
    assert ranks(body) == [(1, H, "50.00"), (2, M, "25.00")]
    assert [(r["unit"], r["cases"], r["not_ranked"]) for r in body["not_ranked"]] == [
        (T, 1, "fewer_cases")
    ]
    reply = body["ranked"][0]["figures"][0]
    assert reply == {
        "figure": "reply",
        "numerator": 1,
        "denominator": 2,
        "percent": "50.00",
        "weight": 50,
        "href": f"/rates/2026-11/units/{H}/reply",
    }

    december = (await o.http.get("/api/ranking/2026-12", headers=o.as_(Role.SUPERVISOR))).json()
    assert december["configuration"]["version"] == "3"
    assert ranks(december) == [(1, H, "100.00")]  # overdue 0/1
    quarter = (await o.http.get("/api/ranking/2026-Q4", headers=o.as_(Role.SUPERVISOR))).json()
    assert quarter["configuration"]["version"] == "3"
    # overdue: H 1/3 → 66.67, M 1/2 → 50, T 1/1 → 0
    assert ranks(quarter) == [(1, H, "66.67"), (2, M, "50.00"), (3, T, "0.00")]


async def test_bad_periods_and_other_roles_are_refused(oversight: Oversight) -> None:
    o = oversight
    sup = o.as_(Role.SUPERVISOR)
    for bad in ("2026-13", "2026-Q5", "26-11", "2026-1"):
        assert_problem(await o.http.get(f"/api/ranking/{bad}", headers=sup), 422, "validation")
    for outside in ("0000-01", "0000-Q1"):  # well-formed, outside the calendar
        assert_problem(await o.http.get(f"/api/ranking/{outside}", headers=sup), 404, "not-found")
    before = assert_problem(await o.http.get("/api/ranking/2026-09", headers=sup), 404, "not-found")
    assert before["period"] == "2026-09" and before["kind"] == KIND
    assert_problem(await o.http.get("/api/ranking/2026-11"), 401, "unauthenticated")
    handler = await o.http.get("/api/ranking/2026-11", headers=o.as_(Role.UNIT_HANDLER))
    assert_problem(handler, 403, "forbidden")


async def test_the_ranking_page(oversight: Oversight) -> None:
    o = oversight
    async with client(o.app) as browser:
        await sign_in_page(browser, o.app, demo_staff_id(Role.SUPERVISOR))
        latest = await browser.get("/ranking", headers=HTML, follow_redirects=False)
        this_month = period(month_of(int(time.time() * 1_000_000)))
        last_month = month_of(this_month.start - 1)  # weights in force since October 2026
        assert latest.status_code == 303
        assert latest.headers["location"] == f"/ranking/{last_month}"
        r = await browser.get("/ranking/2026-11", headers=HTML)
        assert r.status_code == 200, r.text
        html = r.text
        assert "效能考核排名（2026-11）" in html
        assert 'data-version="2"' in html and "第 <strong>2</strong> 版" in html
        rows = re.findall(r'<tr class="ranked" data-unit="([^"]+)" data-rank="(\d+)">', html)
        assert rows == [(H, "1"), (M, "2")]
        apart = html.split('<table class="not-ranked">', 1)[1]
        assert f'data-unit="{T}" data-reason="fewer_cases"' in apart
        assert "案件数不足 2 件" in apart
        assert f'href="/rates/2026-11/units/{H}/reply"' in html
        assert f'href="/rates/2026-11/units/{T}/buck_passing"' in apart
        assert 'href="/ranking/2026-Q4"' in html
        december = await browser.get("/ranking/2026-12", headers=HTML)
        assert 'data-version="3"' in december.text


async def test_signed_figures_rank_an_ended_period_and_a_correction_reranks_it(
    oversight: Oversight,
) -> None:
    o = oversight
    sup = o.as_(Role.SUPERVISOR)
    live = (await o.http.get("/api/ranking/2026-11", headers=sup)).json()
    assert live["figures"] == {"kind": "live", "version": None, "published_at": None, "event": None}
    writer = await o.app.state.ledger.writer.writer()
    actor = "efficiency-office/period-figures"
    first = await publish_figures(writer, "2026-11", NOVEMBER, actor)
    assert first.accepted, first.refused
    body = await ranking_when(o, "2026-11", lambda b: b["figures"]["kind"] == "signed")
    assert body["figures"]["version"] == 1
    assert ranks(body) == ranks(live)  # the signed figures are the live ones
    # A correction: M's replies were all in time after all → M (2/2 + 0/2)/2 = 50 ties H (50);
    # the tie-break (reply) puts M first.
    corrected = {**NOVEMBER, M: {**NOVEMBER[M], "reply": (2, 2)}}
    second = await publish_figures(writer, "2026-11", corrected, actor, correction="申诉复核")
    assert second.accepted, second.refused
    body = await ranking_when(o, "2026-11", lambda b: b["figures"]["version"] == 2)
    assert ranks(body) == [(1, M, "50.00"), (2, H, "50.00")]
    async with client(o.app) as browser:
        await sign_in_page(browser, o.app, demo_staff_id(Role.SUPERVISOR))
        html = (await browser.get("/ranking/2026-11", headers=HTML)).text
        assert 'data-source="signed" data-figures-version="2"' in html


async def ranking_when(o: Oversight, period_id: str, ready: Any) -> dict[str, Any]:
    """The ranking once the projector has read what was just signed."""
    deadline = time.monotonic() + 20
    while True:
        r = await o.http.get(f"/api/ranking/{period_id}", headers=o.as_(Role.SUPERVISOR))
        body: dict[str, Any] = r.json()
        if ready(body) or time.monotonic() > deadline:
            assert ready(body), body
            return body
        await asyncio.sleep(0.05)
