"""Routing as data, through HTTP against the real apps (in-process, on one SQLite log made by
``ledger init`` with the shipped defaults published, as ``make run`` does):

- dispatch proposes the route from the routing in force and assigns as proposed, recording
  the entry, the versions and each unit's due time; an override without its reason is refused
  with nothing written, with it the case goes to the unit named, and that unit sees the case
  on oversight's workbench as soon as the assignment is in the log;
- only dispatch officers assign, look routes up, list or confirm provisional dues (every
  route of the dispatch app that writes or reads routing, walked from the route table);
- a due in 2027 is provisional; a calendar version under which 2027 is known (a test table
  laid over the package through the calendar module's seam) is published as configuration,
  dispatch lists the due it would change, and the officer's confirmation moves it;
- a calendar version this process does not have stops assignments (503), never silently.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.dispatch.app import create as create_dispatch
from services.dispatch.calendars import shelf
from services.intake.app import create as create_intake
from services.oversight.app import create as create_oversight
from shared.calendar import OverlayCalendar, StatutoryCalendar, TableCalendar
from shared.ledger.configuration import publish_defaults
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.conftest import REPO
from tests.unit.test_calendar import span
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    csrf_from,
    fast_settings,
    sign_in_page,
    token_for,
)

HTML = {"accept": "text/html"}
DEMO_UNIT = "unit:demo-unit"  # the demo unit handler's unit
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "government-services",  # the city's 政务服务中心
    "category": "不动产登记",
    "text": "不动产登记窗口多次要求补交材料，一个月仍未办结。",
    "contact": "13812345678",
}
# Made up for this test (no 2027 notice is used or implied): 2027-01-01 to 01-03 off.
TEST_2027 = TableCalendar(
    version="test-2027",
    years=frozenset({2027}),
    holidays=frozenset(span("2027-01-01", "2027-01-03")),
)
UPDATED = OverlayCalendar("chinesecalendar-1.11.0-test-2027", StatutoryCalendar(), TEST_2027)


@dataclass
class Svc:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[Role, str]

    def as_(self, role: Role, key: str | None = None) -> dict[str, str]:
        return bearer(self.tokens[role], key)


@dataclass
class World:
    settings: WebSettings
    intake: Svc
    dispatch: Svc
    oversight: Svc

    async def head(self) -> dict[int, int]:
        log = await open_log(self.settings)
        try:
            return await log.head()
        finally:
            await log.close()

    async def event(self, event_id: str) -> dict[str, Any]:
        log = await open_log(self.settings)
        try:
            async for r in read_all(log):
                env = orjson.loads(r.record)
                if env["id"] == event_id:
                    return dict(env)
        finally:
            await log.close()
        raise AssertionError("event not in the log")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    var_dir = tmp_path / "var"
    env = {**os.environ, "LEDGER_VAR_DIR": str(var_dir)}
    env.pop("LEDGER_LOG_BACKEND", None)
    init = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "init"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0)
    log = await open_log(settings)
    try:
        await publish_defaults(log, settings)
    finally:
        await log.close()
    makers = [
        (create_intake, (Role.INTAKE_CLERK,)),
        (create_dispatch, (Role.DISPATCH_OFFICER, Role.INTAKE_CLERK, Role.ADMIN, Role.SUPERVISOR)),
        (create_oversight, (Role.UNIT_HANDLER,)),
    ]
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for make, roles in makers:
            app = make(settings)
            http = await stack.enter_async_context(client(app))
            await stack.enter_async_context(app.router.lifespan_context(app))
            tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
            services.append(Svc(app, http, tokens))
        yield World(settings, *services)


def after(answer: dict[str, Any]) -> dict[str, str]:
    return {"after": ",".join(f"{p}:{n}" for p, n in answer["position"].items())}


async def screened_case(world: World, key: str) -> tuple[str, str]:
    clerk = Role.INTAKE_CLERK
    r = await world.intake.http.post(
        "/complaints", json=COMPLAINT, headers=world.intake.as_(clerk, f"{key}-c")
    )
    assert r.status_code == 201, r.text
    case, number = r.json()["stream"], r.json()["complaint_no"]
    r = await world.intake.http.post(
        f"/complaints/{case}/screening",
        json={"outcome": "new"},
        headers=world.intake.as_(clerk, f"{key}-s"),
    )
    assert r.status_code == 201, r.text
    return case, number


async def assign(world: World, case: str, key: str, **body: Any) -> httpx.Response:
    return await world.dispatch.http.post(
        f"/cases/{case}/assignment",
        json=body,
        headers=world.dispatch.as_(Role.DISPATCH_OFFICER, key),
    )


async def test_dispatch_proposes_assigns_as_proposed_and_overrides_with_a_reason(
    world: World,
) -> None:
    officer = world.dispatch.as_(Role.DISPATCH_OFFICER)
    r = await world.dispatch.http.get(
        "/routing/proposal",
        params={"category": "不动产登记", "unit": "government-services"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "routing_version": "1",
        "time_limits_version": "1",
        "entry": "R0005",
        "category": "不动产登记",
        "unit": "unit:government-services",
        "level": "municipal",
        "lead": "unit:natural-resources",
        "co_units": ["unit:government-services"],
        "handle_within": {"amount": 7, "unit": "working_days"},
    }

    # As proposed: straight to the bureau that acts, the centre co-handling, each its own due.
    case, _ = await screened_case(world, "p")
    r = await assign(world, case, "p-a")
    assert r.status_code == 201, r.text
    event = await world.event(r.json()["events"][0]["id"])
    data = event["data"]
    assert data["lead_unit"] == "unit:natural-resources"
    assert [u["unit"] for u in data["co_units"]] == ["unit:government-services"]
    assert data["proposed"]["entry"] == "R0005" and data.get("override_reason") is None
    assert (data["routing_version"], data["time_limits_version"]) == ("1", "1")
    assert data["calendar_version"] == "chinesecalendar-1.11.0" and data["direct"] is True

    # An override without its reason: refused, nothing written.
    case2, number2 = await screened_case(world, "o")
    head = await world.head()
    refused = await assign(world, case2, "o-1", lead_unit=DEMO_UNIT)
    assert assert_problem(refused, 409, "conflict")["reason"] == "override_needs_reason"
    assert await world.head() == head

    # With its reason: the unit named acts, and sees the case on its workbench at once.
    r = await assign(world, case2, "o-2", lead_unit=DEMO_UNIT, override_reason="窗口由示范单位派驻")
    assert r.status_code == 201, r.text
    data = (await world.event(r.json()["events"][0]["id"]))["data"]
    assert data["override_reason"] == "窗口由示范单位派驻"
    assert data["proposed"]["lead"] == "unit:natural-resources" and data["lead_unit"] == DEMO_UNIT
    async with client(world.oversight.app) as browser:
        await sign_in_page(browser, world.oversight.app, demo_staff_id(Role.UNIT_HANDLER))
        bench = await browser.get("/workbench", params=after(r.json()), headers=HTML)
    assert bench.status_code == 200 and "数据正在更新" not in bench.text  # the wait reached it
    assert number2 in bench.text

    # The page: what is in force, its versions, and the lookup form's answer.
    async with client(world.dispatch.app) as browser:
        await sign_in_page(browser, world.dispatch.app, demo_staff_id(Role.DISPATCH_OFFICER))
        page = await browser.get(
            "/routing",
            params={"category": "劳动欠薪", "unit": "huicheng-district", "urgency": "normal"},
            headers=HTML,
        )
    assert page.status_code == 200, page.text
    assert "转办规则与办理时限" in page.text and "第 1 版（351 条）" in page.text
    assert "unit:huicheng-district" in page.text and "5 个工作日" in page.text


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every endpoint of an app, through the routers it includes (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


async def test_only_dispatch_officers_route_assign_and_confirm(world: World) -> None:
    """Walks the dispatch app's route table: every route of this service's own that writes a
    case's dispatch events or reads its routing refuses every other role."""
    shared_prefixes = ("/auth", "/admin", "/account", "/signin", "/signout", "/internal")
    routes = [
        r for r in api_routes(world.dispatch.app.routes) if not r.path.startswith(shared_prefixes)
    ]
    own = [r for r in routes if r.path.startswith(("/cases", "/board", "/routing", "/provisional"))]
    assert {
        "/cases/{case_id}/assignment",
        "/board/{case_id}/assignment",
        "/routing/proposal",
        "/routing",
        "/provisional-dues",
        "/cases/{case_id}/due-confirmation",
    } <= {r.path for r in own}
    case, _ = await screened_case(world, "acc")
    head = await world.head()
    others = (Role.INTAKE_CLERK, Role.SUPERVISOR, Role.ADMIN)
    for route in own:
        path = route.path.replace("{case_id}", case)
        page_route = not route.include_in_schema
        for method in route.methods:
            for n, role in enumerate(others):
                if page_route:
                    async with client(world.dispatch.app) as browser:
                        await sign_in_page(browser, world.dispatch.app, demo_staff_id(role))
                        home = await browser.get("/", headers=HTML)
                        form = {"csrf_token": csrf_from(home.text), "form_key": f"k-{n}"}
                        r = await browser.request(method, path, data=form, headers=HTML)
                else:
                    headers = world.dispatch.as_(role, f"acc-{route.path}-{n}")
                    r = await world.dispatch.http.request(method, path, json={}, headers=headers)
                assert r.status_code == 403, (method, route.path, role, r.status_code)
    assert await world.head() == head


async def test_a_2027_due_is_provisional_then_confirmed_after_a_calendar_update(
    world: World,
) -> None:
    officer = Role.DISPATCH_OFFICER
    case, number = await screened_case(world, "y")
    r = await assign(world, case, "y-a", working_days=60, override_reason="跨年督办事项")
    assert r.status_code == 201, r.text
    assigned = (await world.event(r.json()["events"][0]["id"]))["data"]
    assert assigned["provisional"] is True  # 60 working days from now reach into 2027
    first_due = assigned["due_at"]

    listed = await world.dispatch.http.get(
        "/provisional-dues", params=after(r.json()), headers=world.dispatch.as_(officer)
    )
    assert listed.status_code == 200 and listed.json() == []  # same calendar: nothing to do

    shelf().add(UPDATED)
    try:
        admin = world.dispatch.as_(Role.ADMIN, "cal-2")
        r = await world.dispatch.http.post(
            "/admin/config/calendar",
            params={"base_version": "1"},
            json={"version": UPDATED.version},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        listed = await world.dispatch.http.get(
            "/provisional-dues", headers=world.dispatch.as_(officer)
        )
        assert listed.status_code == 200, listed.text
        mine = [d for d in listed.json() if d["case"] == case]
        assert {d["unit"] for d in mine} == {"unit:natural-resources", "unit:government-services"}
        lead = next(d for d in mine if d["unit"] == "unit:natural-resources")
        assert lead["complaint_no"] == number and lead["provisional"] is False
        assert lead["previous_due_at"] == first_due
        assert lead["calendar_version"] == UPDATED.version

        # Listing changed nothing; the officer's confirmation moves that unit's due.
        body = {k: lead[k] for k in ("unit", "previous_due_at", "due_at")}
        r = await world.dispatch.http.post(
            f"/cases/{case}/due-confirmation", json=body, headers=world.dispatch.as_(officer, "c1")
        )
        assert r.status_code == 201, r.text
        confirmed = await world.event(r.json()["events"][0]["id"])
        assert confirmed["type"] == "ledger.dispatch.due_confirmed.v1"
        assert confirmed["data"]["previous_due_at"] == first_due
        again = await world.dispatch.http.post(
            f"/cases/{case}/due-confirmation", json=body, headers=world.dispatch.as_(officer, "c2")
        )
        assert assert_problem(again, 409, "conflict")["reason"] == "nothing_to_confirm"
        listed = await world.dispatch.http.get(
            "/provisional-dues", params=after(r.json()), headers=world.dispatch.as_(officer)
        )
        assert [d["unit"] for d in listed.json() if d["case"] == case] == [
            "unit:government-services"
        ]
        status = await world.intake.http.get(
            f"/complaints/{case}",
            params=after(r.json()),
            headers=world.intake.as_(Role.INTAKE_CLERK),
        )
        assert status.json()["due_at"] == confirmed["data"]["due_at"]
        assert datetime.fromisoformat(confirmed["data"]["due_at"]) == datetime.fromisoformat(
            lead["due_at"]
        )

        # A calendar version this process does not have: assignments stop, with a 503.
        r = await world.dispatch.http.post(
            "/admin/config/calendar",
            params={"base_version": "2"},
            json={"version": "chinesecalendar-9.9.9"},
            headers=world.dispatch.as_(Role.ADMIN, "cal-3"),
        )
        assert r.status_code == 201, r.text
        case3, _ = await screened_case(world, "z")
        head = await world.head()
        refused = await assign(world, case3, "z-a")
        assert_problem(refused, 503, "calendar-unavailable")
        assert await world.head() == head
    finally:
        shelf().remove(UPDATED.version)
