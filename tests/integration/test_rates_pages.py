"""The rates pages through the oversight app on a real SQLite log and read store: signed case
histories appended, the app's projector follows them; the period's table agrees with the
independent fold over the log; every drill-down re-derives its figure (its entries counted are
the table's numerator and denominator, and they are the events the fold names); the signed
figures' state (none, agreeing, differing by unit and figure); bad periods, figures and units
are problem+json; unit handlers are refused; a unit's charts are SVG."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.oversight import rates_pages
from services.oversight.app import create as create_oversight
from shared.ledger import keystore
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.period_publish import publish
from shared.ledger.period_replay import replay_period
from shared.ledger.signer import Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.reports.periods import period
from shared.reports.rates import FIGURES, Figures, RatesFold
from shared.settings import LedgerSettings
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.integration.test_report import PERIOD, write_world
from tests.samples import CO_UNIT, UNIT, H
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
# Worked out by hand in tests/integration/test_report.py for the same world.
BY_HAND = {
    UNIT: {
        "buck_passing": (0, 3),
        "deemed_done": (0, 3),
        "overdue": (2, 3),
        "reopened": (0, 3),
        "reply": (2, 3),
        "resolution": (1, 3),
        "satisfaction": (1, 1),
    },
    CO_UNIT: {
        "buck_passing": (0, 1),
        "deemed_done": (0, 1),
        "overdue": (1, 1),
        "reopened": (0, 1),
        "reply": (0, 1),
        "resolution": (1, 1),
        "satisfaction": (1, 1),
    },
}


async def _from_log(settings: LedgerSettings) -> RatesFold:
    log = await open_log(settings)
    try:
        replay = await replay_period(log, keystore.genesis_public(settings), period(PERIOD))
        return replay.fold
    finally:
        await log.close()


async def _sign(settings: LedgerSettings, figures: Figures, correction: str | None) -> None:
    """Oversight's signed figures for the period, as its publisher (or a correction) signs."""
    log = await open_log(settings)
    try:
        signer = Signer(spec("oversight").deployment, keystore.load(settings, "oversight"))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        sub = await publish(
            writer, PERIOD, figures, "efficiency-office/V001", correction=correction
        )
        assert sub.accepted, sub.refused
    finally:
        await log.close()


def table_cells(html: str) -> Figures:
    """The period table as the page shows it: unit -> figure -> (numerator, denominator)."""
    out: Figures = {}
    for unit, row in re.findall(
        r'<tr class="unit-rates" data-unit="([^"]+)">(.*?)</tr>', html, re.S
    ):
        cells = re.findall(
            r'<td data-figure="(\w+)"><a href="/rates/[^/]+/units/[^/]+/\1">'
            r'<span class="ratio">(\d+)/(\d+)</span>',
            row,
        )
        out[unit] = {f: (int(n), int(d)) for f, n, d in cells}
    return out


async def _settled(c: httpx.AsyncClient, token: str, expected: Figures) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:  # until the projector has applied every history
        r = await c.get(f"/api/rates/{PERIOD}", headers=bearer(token))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        got = {
            u["unit"]: {f: (v["numerator"], v["denominator"]) for f, v in u["figures"].items()}
            for u in body["units"]
        }
        if got == expected:
            return body
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.1)


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FastAPI, LedgerSettings]:
    monkeypatch.setenv("LEDGER_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("LEDGER_PERIOD_FIGURES_ENABLED", "false")
    settings = fast_settings(tmp_path / "var", log_partitions=3, projector_poll_seconds=0.1)
    asyncio.run(write_world(settings))

    async def defaults() -> None:
        log = await open_log(settings)
        try:
            await publish_defaults(log, settings)
        finally:
            await log.close()

    asyncio.run(defaults())
    return create_oversight(settings), settings


async def test_table_drill_downs_and_signed_figures(
    world: tuple[FastAPI, LedgerSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = world
    fold = await _from_log(settings)
    assert fold.figures() == BY_HAND
    async with client(app) as browser, client(app) as api, app.router.lifespan_context(app):
        token = await token_for(api, app, demo_staff_id(Role.SUPERVISOR))
        body = await _settled(api, token, BY_HAND)
        p = period(PERIOD)
        assert (body["period"], body["start"], body["end"]) == (PERIOD, p.start, p.end)
        assert body["signed"] == {"version": None, "agrees": None, "differences": []}

        await sign_in_page(browser, app, demo_staff_id(Role.SUPERVISOR))
        page = await browser.get(f"/rates/{PERIOD}", headers=HTML)
        assert page.status_code == 200
        assert table_cells(page.text) == BY_HAND  # every unit, every figure, each a link
        assert 'data-signed="none"' in page.text and "本统计期尚未结束" in page.text
        assert "<script" not in page.text and H not in page.text

        # Every drill-down re-derives its figure, naming the events the log's fold names.
        for unit, row in BY_HAND.items():
            for figure in FIGURES:
                url = f"/rates/{PERIOD}/units/{unit}/{figure}"
                data = (await browser.get(url, headers=JSON)).json()
                n, d = row[figure]
                assert (data["numerator"], data["denominator"]) == (n, d), (unit, figure)
                assert len(data["numerator_events"]) == n, (unit, figure)
                assert len(data["denominator_events"]) == d, (unit, figure)
                behind = fold.drill_down(unit, figure)
                for listed, logged in (
                    (data["numerator_events"], behind.numerator),
                    (data["denominator_events"], behind.denominator),
                ):
                    assert sorted(e["event"] for e in listed) == sorted(e.event for e in logged)
                    assert all(e["event_type"] and e["log_time"] for e in listed)
                html = (await browser.get(url, headers=HTML)).text
                numerator, denominator = html.split('<h2 id="denominator">')
                assert numerator.count('<tr class="evidence"') == n, (unit, figure)
                assert denominator.count('<tr class="evidence"') == d, (unit, figure)
                assert H not in html
                assert html.count('<a href="/dashboard/cases/') == n + d  # supervisors: linked
        via_api = await api.get(f"/api/rates/{PERIOD}/units/{UNIT}/reply", headers=bearer(token))
        assert via_api.json()["numerator"] == 2
        types = {e["event_type"] for e in via_api.json()["numerator_events"]}
        assert types == {"ledger.handling.replied.v1"}

        # Long lists are paged.
        monkeypatch.setattr(rates_pages, "PAGE_SIZE", 1)
        second = await browser.get(
            f"/rates/{PERIOD}/units/{UNIT}/overdue",
            params={"denominator_page": 2},
            headers=HTML,
        )
        assert second.text.split('<h2 id="denominator">')[1].count('<tr class="evidence"') == 1
        assert "第 2 / 3 页" in second.text and 'rel="next"' in second.text
        monkeypatch.setattr(rates_pages, "PAGE_SIZE", 50)

        # Signed figures: agreeing, then a correction that differs in one unit's figure.
        await _sign(settings, fold.figures(), None)
        page = await browser.get(f"/rates/{PERIOD}", headers=HTML)
        assert 'data-signed="agrees"' in page.text and "第 1 版" in page.text
        altered = {u: dict(r) for u, r in fold.figures().items()}
        altered[CO_UNIT]["reply"] = (1, 1)
        await _sign(settings, altered, "复核后更正")
        page = await browser.get(f"/rates/{PERIOD}", headers=HTML)
        assert 'data-signed="differs"' in page.text and "第 2 版" in page.text
        assert f'<tr data-unit="{CO_UNIT}" data-figure="reply">' in page.text
        signed = (await api.get(f"/api/rates/{PERIOD}", headers=bearer(token))).json()["signed"]
        assert signed == {
            "version": 2,
            "agrees": False,
            "differences": [
                {
                    "unit": CO_UNIT,
                    "figure": "reply",
                    "live": {"numerator": 0, "denominator": 1},
                    "signed": {"numerator": 1, "denominator": 1},
                }
            ],
        }

        # A unit's twelve months as charts: SVG, no script, this month's point drawn.
        charts = await browser.get(f"/rates/units/{UNIT}", headers=HTML)
        assert charts.status_code == 200
        assert charts.text.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
        assert f"{PERIOD}：66.7%（2/3）" in charts.text  # the reply rate's point this month
        assert "无数据" in charts.text and "<script" not in charts.text

        # The form's choice of period, and the navigation's entry.
        chosen = await browser.get(
            "/rates", params={"period": PERIOD}, headers=HTML, follow_redirects=True
        )
        assert chosen.status_code == 200 and chosen.url.path == f"/rates/{PERIOD}"
        assert 'href="/rates"' in chosen.text


async def test_bad_requests_and_who_may_see(world: tuple[FastAPI, LedgerSettings]) -> None:
    app, _ = world
    async with client(app) as api, client(app) as browser, app.router.lifespan_context(app):
        supervisor = bearer(await token_for(api, app, demo_staff_id(Role.SUPERVISOR)))
        await _settled(api, supervisor["Authorization"].split()[1], BY_HAND)
        for bad in ("2026-13", "2026-Q5", "26-11", "2026-11-01", "latest"):
            assert_problem(
                await api.get(f"/api/rates/{bad}", headers=supervisor), 422, "validation"
            )
        assert_problem(await api.get("/api/rates/2099-01", headers=supervisor), 404, "not-found")
        base = f"/api/rates/{PERIOD}/units"
        assert_problem(
            await api.get(f"{base}/{UNIT}/kindness", headers=supervisor), 422, "validation"
        )
        assert_problem(await api.get(f"{base}/nobody/reply", headers=supervisor), 422, "validation")
        assert_problem(
            await api.get(f"{base}/unit:nobody/reply", headers=supervisor), 404, "not-found"
        )
        assert_problem(
            await api.get(f"{base}/{UNIT}/reply", params={"numerator_page": 0}, headers=supervisor),
            422,
            "validation",
        )

        auditor = bearer(await token_for(api, app, demo_staff_id(Role.AUDITOR)))
        assert (await api.get(f"/api/rates/{PERIOD}", headers=auditor)).status_code == 200
        handler = bearer(await token_for(api, app, demo_staff_id(Role.UNIT_HANDLER)))
        for path in (f"/api/rates/{PERIOD}", f"{base}/{UNIT}/reply"):
            assert_problem(await api.get(path, headers=handler), 403, "forbidden")
        assert_problem(await api.get(f"/api/rates/{PERIOD}"), 401, "unauthenticated")

        await sign_in_page(browser, app, demo_staff_id(Role.UNIT_HANDLER))
        for path in (
            f"/rates/{PERIOD}",
            f"/rates/{PERIOD}/units/{UNIT}/reply",
            f"/rates/units/{UNIT}",
            "/rates",
        ):
            r = await browser.get(path, headers=HTML)
            assert r.status_code == 403, (path, r.status_code)
        menu = (await browser.get("/workbench", headers=HTML)).text
        assert 'href="/rates"' not in menu  # the navigation hides it from them

    async with client(app) as browser, app.router.lifespan_context(app):
        await sign_in_page(browser, app, demo_staff_id(Role.AUDITOR))
        assert (await browser.get(f"/rates/{PERIOD}", headers=HTML)).status_code == 200
        listed = await browser.get(f"/rates/{PERIOD}/units/{UNIT}/overdue", headers=HTML)
        assert listed.text.count('<tr class="evidence"') == 5  # 2 + 3, as a supervisor sees
        assert "/dashboard/cases/" not in listed.text  # a supervisor's page: not linked here
        bad = await browser.get("/rates/2026-13", headers=JSON)
        assert_problem(bad, 422, "validation")
        missing = await browser.get("/rates/units/unit:nobody", headers=JSON)
        assert_problem(missing, 404, "not-found")
