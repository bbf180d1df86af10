"""One case's life through the four services, driven only through HTTP: intake records the
complaint and hands out the tracking code, screens it by hand; dispatch assigns it to a lead
unit with a due time (refused before screening); the unit signs for it, replies and claims
resolution in oversight's workbench; the complainant confirms on intake's public page with the
tracking code; a supervisor closes it with a finding; publication drafts a notice from
structured fields and a reviewer publishes it on the public notice page. Every service's
operator page shows the case as its people look for it. Then ``ledger verify`` exits 0 and
``ledger replay`` lists the case's event types in order.

The four apps run in-process (ASGI) on one SQLite log made by ``ledger init`` in a temporary
var dir, each with its own projector following the log into its own read model."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import shared.log.sqlite as sqlite_log
from services.dispatch.app import create as create_dispatch
from services.intake.app import create as create_intake
from services.oversight.app import create as create_oversight
from services.publication.app import create as create_publication
from services.publication.commands import notice_id
from shared.ledger.configuration import publish_defaults
from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.web.command_path import answer
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.conftest import REPO
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

PHONE = "13812345678"
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口工作人员长时间离岗，群众排队无人办理。",
    "contact": PHONE,
}
UNIT = "unit:demo-unit"  # the demo unit handler's unit, as the log names units
HTML = {"accept": "text/html"}
LIFE = [
    "ledger.complaint.received.v1",
    "ledger.complaint.screened.v1",
    "ledger.dispatch.assigned.v1",
    "ledger.handling.acknowledged.v1",
    "ledger.handling.replied.v1",
    "ledger.handling.resolution_claimed.v1",
    "ledger.complainant.confirmed.v1",
    "ledger.handling.closed.v1",
    "ledger.publication.drafted.v1",
    "ledger.publication.published.v1",
]


def cli_env(var_dir: Path) -> dict[str, str]:
    env = {**os.environ, "LEDGER_VAR_DIR": str(var_dir), "COLUMNS": "240"}
    env.pop("LEDGER_LOG_BACKEND", None)
    return env


def ledger_cli(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        cwd=REPO,
        env=cli_env(var_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[Role, str]

    def as_(self, role: Role, key: str | None = None) -> dict[str, str]:
        return bearer(self.tokens[role], key)


@dataclass
class World:
    var_dir: Path
    settings: WebSettings
    intake: Service
    dispatch: Service
    oversight: Service
    publication: Service

    async def head(self) -> dict[int, int]:
        log = await open_log(self.settings)
        try:
            return await log.head()
        finally:
            await log.close()


def after(answer: dict[str, Any]) -> dict[str, str]:
    return {"after": ",".join(f"{p}:{n}" for p, n in answer["position"].items())}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    var_dir = tmp_path / "var"
    init = ledger_cli(var_dir, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0)
    log = await open_log(settings)
    try:
        await publish_defaults(log, settings)  # as `make run` does: routing, limits, calendar
    finally:
        await log.close()
    makers: list[tuple[Callable[[WebSettings], FastAPI], tuple[Role, ...]]] = [
        (create_intake, (Role.INTAKE_CLERK, Role.DISPATCH_OFFICER)),
        (create_dispatch, (Role.DISPATCH_OFFICER, Role.INTAKE_CLERK)),
        (create_oversight, (Role.UNIT_HANDLER, Role.SUPERVISOR)),
        (create_publication, (Role.PUBLICATION_REVIEWER, Role.SUPERVISOR)),
    ]
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for make, roles in makers:
            app = make(settings)
            http = await stack.enter_async_context(client(app))
            await stack.enter_async_context(app.router.lifespan_context(app))
            tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
            services.append(Service(app, http, tokens))
        yield World(var_dir, settings, *services)


async def form_token(c: httpx.AsyncClient, path: str) -> str:
    page = await c.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


async def follow_up(c: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await form_token(c, "/public/follow-up")
    return await c.post("/public/follow-up", data={"csrf_token": token, **fields}, headers=HTML)


async def signed_in_page(svc: Service, role: Role, path: str, **params: str) -> str:
    async with client(svc.app) as browser:
        await sign_in_page(browser, svc.app, demo_staff_id(role))
        r = await browser.get(path, params=params, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


async def test_one_case_from_complaint_to_published_notice(world: World) -> None:
    intake, dispatch, oversight, publication = (
        world.intake,
        world.dispatch,
        world.oversight,
        world.publication,
    )

    # 受理: the complaint opens its case; the complainant gets the tracking code once.
    r = await intake.http.post(
        "/complaints", json=COMPLAINT, headers=intake.as_(Role.INTAKE_CLERK, "life-1")
    )
    assert r.status_code == 201, r.text
    receipt = r.json()
    case, number, code = receipt["stream"], receipt["complaint_no"], receipt["tracking_code"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    again = await intake.http.post(
        "/complaints", json=COMPLAINT, headers=intake.as_(Role.INTAKE_CLERK, "life-1")
    )
    assert again.json()["tracking_code"] == code  # a retry hands out the same code

    queue = await signed_in_page(intake, Role.INTAKE_CLERK, "/queue", **after(receipt))
    assert number in queue and "待甄别" in queue

    # 转办 before screening: refused, with the reason, and nothing is written.
    head = await world.head()
    # The demo unit is not in the catalogue: the officer overrides the route, and says why.
    assign = {"lead_unit": UNIT, "working_days": 10, "override_reason": "示范单位承办"}
    early = await dispatch.http.post(
        f"/cases/{case}/assignment", json=assign, headers=dispatch.as_(Role.DISPATCH_OFFICER, "a0")
    )
    assert assert_problem(early, 409, "conflict")["reason"] == "unscreened"
    assert await world.head() == head

    # 甄别 by hand, then 转办 with a due time in working days.
    r = await intake.http.post(
        f"/complaints/{case}/screening",
        json={"outcome": "new"},
        headers=intake.as_(Role.INTAKE_CLERK, "s-1"),
    )
    assert r.status_code == 201, r.text
    screened = r.json()
    board = await signed_in_page(dispatch, Role.DISPATCH_OFFICER, "/board", **after(screened))
    assert number in board and "待转办（已甄别，1 件）" in board
    wrong_role = await dispatch.http.post(
        f"/cases/{case}/assignment", json=assign, headers=dispatch.as_(Role.INTAKE_CLERK, "a1")
    )
    assert_problem(wrong_role, 403, "forbidden")
    r = await dispatch.http.post(
        f"/cases/{case}/assignment", json=assign, headers=dispatch.as_(Role.DISPATCH_OFFICER, "a1")
    )
    assert r.status_code == 201, r.text
    assigned = r.json()
    board = await signed_in_page(dispatch, Role.DISPATCH_OFFICER, "/board", **after(assigned))
    assert "办理中（1 件" in board and UNIT in board

    # The unit's workbench: sign for it, reply, claim resolution.
    unit = Role.UNIT_HANDLER
    for path, body, key in (
        ("acknowledgement", None, "w-1"),
        ("replies", {"text": "已约谈窗口负责人，恢复正常排班。"}, "w-2"),
        ("resolution-claim", {"summary": "窗口已恢复正常办理。"}, "w-3"),
    ):
        r = await oversight.http.post(
            f"/workbench/cases/{case}/{path}", json=body, headers=oversight.as_(unit, key)
        )
        assert r.status_code == 201, (path, r.text)
    claimed = r.json()
    bench = await signed_in_page(oversight, unit, "/workbench", **after(claimed))
    assert number in bench and "已签收" in bench and "单位报办结" in bench

    # 结案 before the complainant answered: refused (the complainant can still be asked).
    close = {"basis": "complainant_confirmed", "finding": "substantiated", "confidential": False}
    early = await oversight.http.post(
        f"/cases/{case}/closure", json=close, headers=oversight.as_(Role.SUPERVISOR, "c-0")
    )
    assert assert_problem(early, 409, "conflict")["reason"] == "not_confirmed"

    # The complainant, on the public page: a wrong code is refused, the right one confirms.
    seen = await intake.http.get(
        f"/complaints/{case}", params=after(claimed), headers=intake.as_(Role.INTAKE_CLERK)
    )
    assert seen.json()["status"] == "claimed"  # intake's read model has the unit's claim
    async with client(intake.app) as citizen:
        wrong = await follow_up(citizen, complaint_no=number, code="0000-0000-0000-0000")
        assert wrong.status_code == 404 and "投诉编号或查询码不正确" in wrong.text
        status = await follow_up(citizen, complaint_no=number, code=code.lower())
        assert status.status_code == 200 and "单位报办结" in status.text
        done = await follow_up(citizen, complaint_no=number, code=code, action="confirm")
        assert done.status_code == 200, done.text
        assert "您已确认问题已解决" in done.text
        twice = await follow_up(citizen, complaint_no=number, code=code, action="confirm")
        assert twice.status_code == 409  # resolved now: nothing more to confirm

    # 办结 with a finding; the dashboard shows the state.
    r = await oversight.http.post(
        f"/cases/{case}/closure", json=close, headers=oversight.as_(Role.SUPERVISOR, "c-1")
    )
    assert r.status_code == 201, r.text
    closed = r.json()
    dash = await signed_in_page(oversight, Role.SUPERVISOR, "/dashboard", **after(closed))
    assert 'data-status="closed">1<' in dash

    # 公开: a notice from structured fields only, then a reviewer publishes it.
    reviewer = Role.PUBLICATION_REVIEWER
    fields = {"unit": COMPLAINT["unit"], "category": COMPLAINT["category"]}
    queue = await signed_in_page(publication, reviewer, "/review", **after(closed))
    assert number in queue and "已办结待起草（1 件" in queue
    mismatch = await publication.http.post(
        f"/cases/{case}/notice",
        json={**fields, "finding": "unsubstantiated"},
        headers=publication.as_(reviewer, "n-0"),
    )
    assert assert_problem(mismatch, 409, "conflict")["reason"] == "fields_mismatch"
    free_text = await publication.http.post(
        f"/cases/{case}/notice",
        json={**fields, "finding": "substantiated", "text": "自由文字"},
        headers=publication.as_(reviewer, "n-x"),
    )
    assert_problem(free_text, 422, "validation")
    r = await publication.http.post(
        f"/cases/{case}/notice",
        json={**fields, "finding": "substantiated"},
        headers=publication.as_(reviewer, "n-1"),
    )
    assert r.status_code == 201, r.text
    drafted = r.json()
    r = await publication.http.post(
        f"/cases/{case}/notice/publication",
        params=after(drafted),
        headers=publication.as_(reviewer, "p-1"),
    )
    assert r.status_code == 201, r.text
    published = r.json()
    # The reviewer's own read sees it at once; the public page within the projector's poll.
    queue = await signed_in_page(publication, reviewer, "/review", **after(published))
    assert "近期已公开" in queue and notice_id(case, 1) in queue
    async with client(publication.app) as public:
        for _ in range(200):
            notices = await public.get("/public/notices", headers=HTML)
            if notice_id(case, 1) in notices.text:
                break
            await asyncio.sleep(0.05)
    assert notices.status_code == 200
    assert "核查结论：经核查，群众反映的问题属实。" in notices.text
    assert COMPLAINT["unit"] in notices.text and COMPLAINT["category"] in notices.text

    # Nothing of the complainant's contact is in the log.
    log = await open_log(world.settings)
    try:
        raw = b"".join([rec.record async for rec in read_all(log)])
    finally:
        await log.close()
    assert PHONE.encode() not in raw and code.replace("-", "").encode() not in raw

    verify = ledger_cli(world.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    replay = ledger_cli(world.var_dir, "replay", case)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    listed = re.findall(r"ledger\.[a-z_]+\.[a-z_]+\.v1", replay.stdout)
    assert listed == LIFE, replay.stdout
    assert replay.stdout.count("accepted") >= len(LIFE)
    # Each service's read model, built live by its projector, equals a fresh replay's.
    for service in ("intake", "dispatch", "oversight", "publication"):
        rebuilt = ledger_cli(world.var_dir, "rebuild", service)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "identical" in rebuilt.stdout, rebuilt.stdout


async def test_every_step_checks_roles_and_bad_input_writes_nothing(world: World) -> None:
    intake, dispatch, oversight, publication = (
        world.intake,
        world.dispatch,
        world.oversight,
        world.publication,
    )
    r = await intake.http.post(
        "/complaints",
        json={**COMPLAINT, "contact": None},
        headers=intake.as_(Role.INTAKE_CLERK, "anon-1"),
    )
    assert r.status_code == 201, r.text
    anon = r.json()
    case, number, code = anon["stream"], anon["complaint_no"], anon["tracking_code"]
    head = await world.head()

    Step = tuple[Service, Role, str, dict[str, Any] | None]
    wrong_roles: list[Step] = [
        (intake, Role.DISPATCH_OFFICER, f"/complaints/{case}/screening", {"outcome": "new"}),
        (dispatch, Role.INTAKE_CLERK, f"/cases/{case}/assignment", {"lead_unit": UNIT}),
        (oversight, Role.SUPERVISOR, f"/workbench/cases/{case}/acknowledgement", None),
        (oversight, Role.UNIT_HANDLER, f"/cases/{case}/closure", {"basis": "anonymous"}),
        (publication, Role.SUPERVISOR, f"/cases/{case}/notice", {"unit": "x"}),
    ]
    for n, (svc, role, path, body) in enumerate(wrong_roles):
        refused = await svc.http.post(path, json=body, headers=svc.as_(role, f"role-{n}"))
        assert refused.status_code == 403, (path, refused.text)
        unsigned = await svc.http.post(path, json=body, headers={"Idempotency-Key": f"u-{n}"})
        assert unsigned.status_code == 401, (path, unsigned.text)

    bad_bodies: list[Step] = [
        (intake, Role.INTAKE_CLERK, f"/complaints/{case}/screening", {"outcome": "maybe"}),
        (intake, Role.INTAKE_CLERK, "/complaints/case-1/screening", {"outcome": "new"}),
        (
            dispatch,
            Role.DISPATCH_OFFICER,
            f"/cases/{case}/assignment",
            {"lead_unit": UNIT, "working_days": 0},
        ),
        (
            oversight,
            Role.SUPERVISOR,
            f"/cases/{case}/closure",
            {"basis": "anonymous", "finding": "maybe", "confidential": False},
        ),
    ]
    for n, (svc, role, path, body) in enumerate(bad_bodies):
        bad = await svc.http.post(path, json=body, headers=svc.as_(role, f"bad-{n}"))
        assert bad.status_code == 422, (path, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert PHONE not in bad.text

    # In the wrong state: refused with the reason (the case is not even screened).
    states: list[Step] = [
        (
            oversight,
            Role.SUPERVISOR,
            f"/cases/{case}/closure",
            {"basis": "anonymous", "finding": "substantiated", "confidential": False},
        ),
        (
            publication,
            Role.PUBLICATION_REVIEWER,
            f"/cases/{case}/notice",
            {"unit": COMPLAINT["unit"], "category": "窗口服务", "finding": "substantiated"},
        ),
    ]
    for n, (svc, role, path, body) in enumerate(states):
        conflict = await svc.http.post(path, json=body, headers=svc.as_(role, f"state-{n}"))
        assert conflict.status_code == 409, (path, conflict.text)
        assert conflict.json()["reason"] in ("not_assigned", "wrong_state", "not_closed")
    # A case the unit is not assigned to is not found on its workbench, whatever it sends.
    for n, (path, body) in enumerate(
        (("replies", {"text": ""}), ("acknowledgement", None), ("replies", {"text": "答复"}))
    ):
        unknown = await oversight.http.post(
            f"/workbench/cases/{case}/{path}",
            json=body,
            headers=oversight.as_(Role.UNIT_HANDLER, f"not-mine-{n}"),
        )
        assert_problem(unknown, 404, "not-found")
        assert PHONE not in unknown.text
    assert await world.head() == head  # nothing of all that reached the log

    # Pages: each for its own people only.
    async with client(dispatch.app) as browser:
        await sign_in_page(browser, dispatch.app, demo_staff_id(Role.INTAKE_CLERK))
        assert (await browser.get("/board", headers=HTML)).status_code == 403
    async with client(oversight.app) as browser:
        r = await browser.get("/dashboard", headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    # A page's form needs its session's CSRF token and its own form key.
    async with client(intake.app) as browser:
        await sign_in_page(browser, intake.app, demo_staff_id(Role.INTAKE_CLERK))
        queue = await browser.get("/queue", params=after(anon), headers=HTML)
        fields = form_at(queue.text, f"/queue/{case}/screening")
        action, data = f"/queue/{case}/screening", {"outcome": "new"}
        no_key = await browser.post(action, data={**data, "csrf_token": fields["csrf_token"]})
        assert_problem(no_key, 400, "idempotency-key-required")
        forged = await browser.post(action, data={**data, "form_key": fields["form_key"]})
        assert_problem(forged, 403, "csrf")

    # An anonymous complaint has nobody to confirm; guessing codes is throttled.
    async with client(intake.app) as citizen:
        anonymous = await follow_up(citizen, complaint_no=number, code=code, action="confirm")
        assert anonymous.status_code == 409
        for _ in range(5):
            guess = await follow_up(citizen, complaint_no=number, code="0000-0000-0000-0001")
            assert guess.status_code == 404
        throttled = await follow_up(citizen, complaint_no=number, code=code)
        assert throttled.status_code == 429 and throttled.headers["retry-after"]
    assert await world.head() == head


def form_at(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to ``action``."""
    match = re.search(
        r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S
    )
    assert match, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', match[1]))


async def test_the_same_life_through_the_operator_pages(world: World) -> None:
    """Each step from its page's form (session, CSRF, one submission per form): what a person
    in a browser does. A resubmitted form files once."""
    async with contextlib.AsyncExitStack() as stack:
        browsers: dict[Role, httpx.AsyncClient] = {}
        for svc, role in (
            (world.intake, Role.INTAKE_CLERK),
            (world.dispatch, Role.DISPATCH_OFFICER),
            (world.oversight, Role.UNIT_HANDLER),
            (world.oversight, Role.SUPERVISOR),
            (world.publication, Role.PUBLICATION_REVIEWER),
        ):
            browsers[role] = await stack.enter_async_context(client(svc.app))
            await sign_in_page(browsers[role], svc.app, demo_staff_id(role))

        async def submit(role: Role, page: str, action: str, **fields: str) -> httpx.Response:
            b = browsers[role]
            # Another service's step reaches this one's read model within its poll.
            for _ in range(200):
                shown = await b.get(page, headers=HTML)
                assert shown.status_code == 200, shown.text
                if f'action="{action}"' in shown.text:
                    break
                await asyncio.sleep(0.05)
            data = {**form_at(shown.text, action), **fields}
            r = await b.post(action, data=data, headers=HTML)
            assert r.status_code in (200, 303), (action, r.text)
            if r.status_code == 303:
                again = await b.post(action, data=data, headers=HTML)  # a resubmitted form
                assert (
                    again.status_code == 303 and again.headers["location"] == r.headers["location"]
                )
                landed = await b.get(r.headers["location"], headers=HTML)
                assert landed.status_code == 200 and "数据正在更新" not in landed.text
                return landed
            return r

        clerk = Role.INTAKE_CLERK
        receipt = await submit(
            clerk,
            "/queue",
            "/queue/complaints",
            channel="visit",
            unit="市住房和城乡建设局",
            category="服务态度",
            text="窗口无人办理。",
            contact=PHONE,
        )
        number = re.search(r'class="case-no">(TS(?:[A-Z]{2,6}-)?[0-9A-F]{12})<', receipt.text)
        code = re.search(r'class="tracking-code">([0-9A-Z-]{19})<', receipt.text)
        assert number and code
        back = re.search(r'href="(/queue\?after=[^"]+)"', receipt.text)
        assert back, "the receipt links back to the queue, waiting for the receipt"
        queue = await browsers[clerk].get(back[1].replace("&amp;", "&"), headers=HTML)
        case = re.search(r'action="/queue/(case-[0-9a-f-]{36})/screening"', queue.text)
        assert case, queue.text
        case_id = case[1]
        head = await world.head()
        await submit(clerk, "/queue", f"/queue/{case_id}/screening", outcome="new")
        board = await submit(
            Role.DISPATCH_OFFICER,
            "/board",
            f"/board/{case_id}/assignment",
            lead_unit=UNIT,
            working_days="10",
            override_reason="示范单位承办",
        )
        assert "办理中（1 件" in board.text
        unit = Role.UNIT_HANDLER
        await submit(unit, "/workbench", f"/workbench/{case_id}/acknowledgement")
        await submit(unit, "/workbench", f"/workbench/{case_id}/replies", text="已整改。")
        bench = await submit(
            unit, "/workbench", f"/workbench/{case_id}/resolution-claim", text="已恢复办理。"
        )
        assert "单位报办结" in bench.text

        async with client(world.intake.app) as citizen:
            done = await follow_up(citizen, complaint_no=number[1], code=code[1], action="confirm")
            assert "您已确认问题已解决" in done.text, done.text

        for _ in range(200):  # the confirmation reaches oversight's read model
            dash = await browsers[Role.SUPERVISOR].get("/dashboard", headers=HTML)
            if "投诉人已确认" in dash.text:
                break
            await asyncio.sleep(0.05)
        await submit(
            Role.SUPERVISOR,
            "/dashboard",
            f"/dashboard/{case_id}/closure",
            basis="complainant_confirmed",
            finding="partly_substantiated",
        )
        reviewer = Role.PUBLICATION_REVIEWER
        await submit(reviewer, "/review", f"/review/{case_id}/notice")
        await submit(reviewer, "/review", f"/review/{case_id}/publication")
        async with client(world.publication.app) as public:
            notices = await public.get("/public/notices", headers=HTML)
        assert "群众反映的问题部分属实" in notices.text

    # Each step once, resubmissions included: nine events after the receipt, and the
    # workbench's record of when it first showed the unit its new assignment.
    after_steps = await world.head()
    assert sum(after_steps.values()) - sum(head.values()) == 10
    replay = ledger_cli(world.var_dir, "replay", case_id)
    shown = [*LIFE[:3], "ledger.handling.first_shown.v1", *LIFE[3:]]
    assert re.findall(r"ledger\.[a-z_]+\.[a-z_]+\.v1", replay.stdout) == shown, replay.stdout


async def test_a_case_past_its_due_time_shows_its_lead_unit_overdue(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second case is left to run past its due time. The log's clock is moved a month on
    (time enters only as the log's append time), and the timer's event is written the way the
    scheduler writes it, by oversight's deployment: the dispatch board and the supervision
    dashboard then show the lead unit overdue, and the case stays open."""
    intake, dispatch, oversight = world.intake, world.dispatch, world.oversight
    r = await intake.http.post(
        "/complaints", json=COMPLAINT, headers=intake.as_(Role.INTAKE_CLERK, "late-1")
    )
    case = r.json()["stream"]
    await intake.http.post(
        f"/complaints/{case}/screening",
        json={"outcome": "new"},
        headers=intake.as_(Role.INTAKE_CLERK, "late-2"),
    )
    r = await dispatch.http.post(
        f"/cases/{case}/assignment",
        json={"lead_unit": UNIT, "working_days": 1, "override_reason": "示范单位承办"},
        headers=dispatch.as_(Role.DISPATCH_OFFICER, "late-3"),
    )
    assert r.status_code == 201, r.text
    doc = await intake.http.get(
        f"/complaints/{case}", params=after(r.json()), headers=intake.as_(Role.INTAKE_CLERK)
    )
    due = doc.json()["due_at"]

    month = 31 * 24 * 3600 * 10**9
    real = time.time_ns
    monkeypatch.setattr(sqlite_log, "time", SimpleNamespace(time_ns=lambda: real() + month))
    writer = await oversight.app.state.ledger.writer.writer()
    monkeypatch.setattr(writer, "clock", lambda: time.time() + month / 10**9)
    timer = Draft(
        "ledger.deadline.elapsed.v1",
        {"deadline": "handling", "unit": UNIT, "due_at": due},
        "efficiency-office/timer",
    )
    result = await writer.submit(case, lambda st: [timer])
    assert result.accepted, result.refused
    elapsed = answer(result).model_dump()

    dash = await signed_in_page(oversight, Role.SUPERVISOR, "/dashboard", **after(elapsed))
    assert re.search(r'class="overdue-unit"><td>unit:demo-unit</td><td class="state-bad">1<', dash)
    assert "超时件（1 件）" in dash
    board = await signed_in_page(dispatch, Role.DISPATCH_OFFICER, "/board", **after(elapsed))
    assert "已超时" in board
    # Still the unit's to finish: it can reply and claim resolution, late.
    r = await oversight.http.post(
        f"/workbench/cases/{case}/resolution-claim",
        json={"summary": "已办理。"},
        headers=oversight.as_(Role.UNIT_HANDLER, "late-4"),
    )
    assert r.status_code == 201, r.text
    verify = ledger_cli(world.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
