"""Penalties through the running oversight service, over HTTP: an administrator imports the
staff directory (a clerk who moved from one unit's window to another's, and a unit's leaders
with dated posts); inspection findings open cases and the proposal worker proposes a penalty
for each; a supervisor imposes them. Below the schedule's minimum is refused without a reason
(409, ``below_schedule``, nothing written) and accepted with one; the clerk's offence after the
transfer is the second (repeat counts go by person). The unit's third penalty in the month
passes the leadership threshold: the worker proposes leadership responsibility naming the
holder of 主要负责人 on that day by the log's clock — the log's clock is moved 40 days on, and
the directory shows the new leader from that day, while on the wall clock's today the old one
still holds the post. A proposal is dismissed with a reason. The register filters by unit,
offence and departure from the schedule. Erasing a directory entry leaves ``ledger verify``
passing, and no name is anywhere in the log.

One in-process oversight app on a SQLite log made by ``ledger init``, with its projector,
scheduler and proposal worker running."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import shared.log.sqlite as sqlite_log
from services.oversight.app import create as create_oversight
from shared.calendar import SHANGHAI
from shared.ledger.configuration import publish_defaults
from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.integration.test_case_life import after, form_at, ledger_cli
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

SHIFT = timedelta(days=40)  # the log's clock, moved on
A, B = "unit:window-a", "unit:window-b"
HTML = {"accept": "text/html"}
FINDING = "ledger.inspection.finding_recorded.v1"
EVIDENCE = ["ab" * 32]


@dataclass
class Oversight:
    var_dir: Path
    settings: WebSettings
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[Role, str]

    def as_(self, role: Role, key: str | None = None) -> dict[str, str]:
        return bearer(self.tokens[role], key)


@pytest.fixture
async def oversight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Oversight]:
    var_dir = tmp_path / "var"
    init = ledger_cli(var_dir, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0)
    log = await open_log(settings)
    try:
        await publish_defaults(log, settings)
    finally:
        await log.close()
    real = time.time_ns
    shift = int(SHIFT.total_seconds()) * 10**9
    monkeypatch.setattr(sqlite_log, "time", SimpleNamespace(time_ns=lambda: real() + shift))
    app = create_oversight(settings)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(client(app))
        await stack.enter_async_context(app.router.lifespan_context(app))
        roles = (Role.SUPERVISOR, Role.ADMIN)
        tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
        yield Oversight(var_dir, settings, app, http, tokens)


def _day(offset: int) -> str:
    today = (datetime.now(UTC) + SHIFT).astimezone(SHANGHAI).date()
    return (today + timedelta(days=offset)).isoformat()


def directory_csv() -> bytes:
    rows = [
        "staff_id,name,unit,post,start,end",
        f"E1,张三,{A},窗口1,2025-01-01,{_day(-10)}",
        f"E1,张三,{B},窗口3,{_day(-9)},",
        f"E2,李四,{B},窗口2,2025-01-01,",
        f"L-OLD,王主任,{B},主要负责人,2020-01-01,{_day(-1)}",
        f"L-NEW,赵主任,{B},主要负责人,{_day(0)},",
    ]
    return ("\n".join(rows) + "\n").encode()


async def finding(o: Oversight, n: int, unit: str, post: str, staff_id: str) -> tuple[str, str]:
    """An inspection finding opens its own case (recorded as a supervisor would): the case and
    the finding's event id."""
    case = f"case-00000000-0000-4000-8000-{n:012d}"
    data = {
        "unit": unit,
        "post": post,
        "staff_id": staff_id,
        "finding": "idle_at_window",
        "text": "暗访发现工作人员上班时间看视频",
        "inspected_on": datetime.now(UTC).isoformat(),
        "evidence": EVIDENCE,
    }
    writer = await o.app.state.ledger.writer.writer()
    actor = f"efficiency-office/{demo_staff_id(Role.SUPERVISOR)}"
    result = await writer.submit(case, lambda st: [Draft(FINDING, data, actor)])
    assert result.accepted, result.refused
    return case, result.written[0].event_id


class Register:
    """The register page as a signed-in supervisor sees it."""

    def __init__(self, o: Oversight, browser: httpx.AsyncClient) -> None:
        self.o, self.browser = o, browser

    async def page(self, **params: str) -> str:
        r = await self.browser.get("/penalties", params=params, headers=HTML)
        assert r.status_code == 200, r.text
        return r.text

    async def proposal(self, case: str, cause: str) -> str:
        """The id of the case's pending proposal of ``cause``, once the worker wrote it."""
        pattern = re.compile(rf'action="/penalties/{case}/proposals/([0-9a-f-]+)/dismissal"')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            html = await self.page()
            for row in html.split('<tr class="proposal"')[1:]:
                m = pattern.search(row)
                if m and f'data-cause="{cause}"' in row:
                    return m.group(1)
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {cause} proposal on {case}")

    async def rows(self, **params: str) -> list[str]:
        html = await self.page(**params)
        return re.findall(r'<tr class="penalty" data-penalty="[^"]+">(.*?)</tr>', html, re.S)


def impose(unit: str, post: str, staff: str, penalty: str, **more: Any) -> dict[str, Any]:
    return {
        "unit": unit,
        "post": post,
        "staff_id": staff,
        "offence": "idle_at_window",
        "penalty": penalty,
        **more,
    }


async def test_penalties_by_schedule_by_person_and_leadership_at_the_time(
    oversight: Oversight,
) -> None:
    o = oversight
    sup, admin = Role.SUPERVISOR, Role.ADMIN
    r = await o.http.post(
        "/staff-directory/import",
        files={"file": ("staff.csv", directory_csv(), "text/csv")},
        headers=o.as_(admin),
    )
    assert r.status_code == 201 and r.json() == {"imported": 4}, r.text
    bad = await o.http.post(
        "/staff-directory/import",
        files={"file": ("staff.csv", b"staff_id,name,unit,post,start,end\nE9,x,bad unit,p,x,\n")},
        headers=o.as_(admin),
    )
    assert assert_problem(bad, 422, "validation")["lines"] == [2]
    assert (await o.http.get("/staff-directory/E9", headers=o.as_(admin))).status_code == 404
    forbidden = await o.http.get("/staff-directory/E1", headers=o.as_(sup))
    assert_problem(forbidden, 403, "forbidden")

    async with client(o.app) as browser:
        await sign_in_page(browser, o.app, demo_staff_id(sup))
        reg = Register(o, browser)

        # 1. First offence, at unit A's window 1: imposed on the worker's proposal.
        c1, _ = await finding(o, 1, A, "窗口1", "E1")
        p1 = await reg.proposal(c1, "inspection")
        r = await o.http.post(
            f"/cases/{c1}/penalties",
            json=impose(A, "窗口1", "E1", "criticism", proposal_id=p1),
            headers=o.as_(sup, "pen-1"),
        )
        assert r.status_code == 201, r.text
        await reg.page(**after(r.json()))

        # 2. The clerk moved to unit B: a second offence, whose minimum is 诫勉谈话.
        c2, _ = await finding(o, 2, B, "窗口3", "E1")
        p2 = await reg.proposal(c2, "inspection")
        head = await _head(o)
        light = impose(B, "窗口3", "E1", "criticism", proposal_id=p2)
        refused = await o.http.post(
            f"/cases/{c2}/penalties", json=light, headers=o.as_(sup, "pen-2")
        )
        problem = assert_problem(refused, 409, "conflict")
        assert problem["reason"] == "below_schedule" and "理由" in problem["detail"]
        assert await _head(o) == head  # nothing written
        reasoned = {**light, "departure_reason": "主动认错并已整改"}
        r = await o.http.post(f"/cases/{c2}/penalties", json=reasoned, headers=o.as_(sup, "pen-3"))
        assert r.status_code == 201, r.text
        await reg.page(**after(r.json()))

        # 3. Two more penalties at unit B this month: the third passes the threshold.
        c3, f3 = await finding(o, 3, B, "窗口2", "E2")
        c4, _ = await finding(o, 4, B, "窗口2", "E2")
        p3 = await reg.proposal(c3, "inspection")
        r = await o.http.post(
            f"/cases/{c3}/proposals/{p3}/dismissal",
            json={"reason": "与第4件为同一事实，合并处理"},
            headers=o.as_(sup, "pen-4"),
        )
        assert r.status_code == 201, r.text
        empty = await o.http.post(
            f"/cases/{c3}/proposals/{p3}/dismissal",
            json={"reason": ""},
            headers=o.as_(sup, "pen-5"),
        )
        assert_problem(empty, 422, "validation")
        p4 = await reg.proposal(c4, "inspection")
        for n, (case, cause) in enumerate(((c3, {"causes": [f3]}), (c4, {"proposal_id": p4}))):
            r = await o.http.post(
                f"/cases/{case}/penalties",
                json=impose(
                    B, "窗口2", "E2", "criticism" if n == 0 else "admonishment_talk", **cause
                ),
                headers=o.as_(sup, f"pen-6{n}"),
            )
            assert r.status_code == 201, r.text
            await reg.page(**after(r.json()))
        lead = await reg.proposal(c4, "leadership")
        html = await reg.page()
        row = next(x for x in html.split('<tr class="proposal"') if lead in x)
        assert "<code>L-NEW</code>" in row and "L-OLD" not in row and "主要负责人" in row
        # Decided from the page's form (session, CSRF, one submission per form).
        action = f"/penalties/{c4}/proposals/{lead}/dismissal"
        fields = form_at(html, action)
        r = await browser.post(action, data={**fields, "reason": ""}, headers=HTML)
        assert r.status_code == 422
        fields = form_at(await reg.page(), action)  # a fresh form
        r = await browser.post(action, data={**fields, "reason": "已另行约谈"}, headers=HTML)
        assert r.status_code == 303, r.text
        html = await browser.get(r.headers["location"], headers=HTML)
        assert lead not in html.text and "暂无待决定的问责建议" in html.text

    # The register: filters by unit, offence and departure; repeat counts by person.
    async with client(o.app) as browser:
        await sign_in_page(browser, o.app, demo_staff_id(sup))
        reg = Register(o, browser)
        everything = await reg.rows()
        assert len(everything) == 4
        at_b = await reg.rows(unit=B)
        assert len(at_b) == 3 and all(B in x for x in at_b)
        departures = await reg.rows(departure="yes")
        assert len(departures) == 1 and "主动认错并已整改" in departures[0]
        assert '<td class="repeat">2</td>' in departures[0]
        assert len(await reg.rows(departure="no")) == 3
        assert await reg.rows(offence="inaction") == []
        assert len(await reg.rows(offence="idle_at_window", unit=A)) == 1
        repeats = [re.search(r'class="repeat">(\d)<', x).group(1) for x in at_b]  # type: ignore[union-attr]
        assert sorted(repeats) == ["1", "2", "2"]  # E1's second; E2's first and second

    # The directory's admin page, then erasure: the log never held a name and stays verifiable.
    async with client(o.app) as browser:
        await sign_in_page(browser, o.app, demo_staff_id(admin))
        staff = await browser.get("/staff", headers=HTML)
        assert staff.status_code == 200 and "张三" in staff.text and "窗口3" in staff.text
    gone = await o.http.post("/staff-directory/E1/erasure", headers=o.as_(admin))
    assert gone.status_code == 204
    assert (await o.http.get("/staff-directory/E1", headers=o.as_(admin))).status_code == 404
    log = await open_log(o.settings)
    try:
        records = [rec.record async for rec in read_all(log)]
    finally:
        await log.close()
    assert not any(name.encode() in rec for rec in records for name in ("张三", "李四", "赵主任"))
    verify = ledger_cli(o.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def _head(o: Oversight) -> dict[int, int]:
    log = await open_log(o.settings)
    try:
        return await log.head()
    finally:
        await log.close()
