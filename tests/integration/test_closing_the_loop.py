"""Closing the loop honestly, and inspections (暗访), through the four services' HTTP APIs on one
world (one SQLite log, every app with its projector, oversight's scheduler running in its app):

- a unit's claim is not resolution: the complainant confirms (→ closed on that basis) or
  disputes (→ a supervisor reopens it, 重办, with due times counted afresh from the time
  limits and calendar in force, the reopen naming the dispute and counted in the case state);
- where nobody can be asked — anonymous, opened by an inspection, no answer by the 回访
  deadline the claim recorded from the configuration — a supervisor closes it on that basis; a
  supervisor's closure while the complainant can still be asked is refused and writes nothing;
- a supervisor grants one extension and refuses another; both events carry the sentence the
  complainant is sent, and are on oversight's list of what reaches the complainant;
- an inspection finding with evidence files opens a case that dispatch assigns like any other.
- the same rulings and the reopen from the case page's forms (the pending request shown; bad
  input and a refused ruling write nothing), a disputed case on the dashboard awaiting 重办.

The log's clock is the fixture's (``LogClock``): the last test moves it past the 回访 deadline,
and the scheduler itself writes the ``answer`` deadline's ``deadline.elapsed``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

import shared.log.sqlite as sqlite_log
from services.dispatch.app import create as create_dispatch
from services.intake.app import create as create_intake
from services.oversight.app import create as create_oversight
from services.oversight.complainant_notices import NOTICE_FIELD, REACHES_COMPLAINANT, cn_time
from services.oversight.projection import OVERSIGHT_CASES
from services.publication.app import create as create_publication
from shared.calendar import StatutoryCalendar, TimeLimit, due_at
from shared.ledger.configuration import publish_defaults
from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.rules.case.state import CaseState
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.integration.test_case_life import (
    COMPLAINT,
    UNIT,
    Service,
    World,
    follow_up,
    ledger_cli,
)
from tests.timer_logs import judged
from tests.web_fixtures import assert_problem, client, fast_settings, sign_in_page, token_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

HTML = {"accept": "text/html"}
ASSIGN = {"lead_unit": UNIT, "working_days": 10, "override_reason": "示范单位承办"}
REOPENED = "ledger.handling.reopened.v1"
CLOSED_TYPE = "ledger.handling.closed.v1"
RULED = "ledger.handling.extension_ruled.v1"
ELAPSED = "ledger.deadline.elapsed.v1"
SUPERVISOR, UNIT_HANDLER = Role.SUPERVISOR, Role.UNIT_HANDLER
REVISIT = TimeLimit(amount=3)  # deploy/config/time_limits.json: revisit_within
NORMAL = TimeLimit(amount=7)  # its handling limit at urgency normal for 窗口服务
EXTENSION_AT_MOST = 15


class LogClock:
    """The log's append time, as the fixture drives it: the real clock plus ``offset_ns``."""

    def __init__(self) -> None:
        self.offset_ns = 0
        self._real = time.time_ns

    def time_ns(self) -> int:
        return self._real() + self.offset_ns


class Loop(World):
    clock: LogClock


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Loop]:
    var_dir = tmp_path_factory.mktemp("loop") / "var"
    init = ledger_cli(var_dir, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0)
    log = await open_log(settings)
    try:
        await publish_defaults(log, settings)
    finally:
        await log.close()
    clock = LogClock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite_log, "time", SimpleNamespace(time_ns=clock.time_ns))
        makers: list[tuple[Callable[..., Any], tuple[Role, ...]]] = [
            (create_intake, (Role.INTAKE_CLERK,)),
            (create_dispatch, (Role.DISPATCH_OFFICER,)),
            (create_oversight, (UNIT_HANDLER, SUPERVISOR)),
            (create_publication, (Role.PUBLICATION_REVIEWER,)),
        ]
        async with contextlib.AsyncExitStack() as stack:
            services = []
            for make, roles in makers:
                app = make(settings)
                http = await stack.enter_async_context(client(app))
                await stack.enter_async_context(app.router.lifespan_context(app))
                tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
                services.append(Service(app, http, tokens))
            w = Loop(var_dir, settings, *services)
            w.clock = clock
            yield w


_keys = iter(range(1_000_000))


def key(prefix: str) -> str:
    return f"{prefix}-{next(_keys)}"


async def post(svc: Service, role: Role, path: str, body: Any = None) -> dict[str, Any]:
    r = await svc.http.post(path, json=body, headers=svc.as_(role, key("k")))
    assert r.status_code == 201, (path, r.text)
    answer: dict[str, Any] = r.json()
    return answer


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def events_of(w: World, case: str) -> list[dict[str, Any]]:
    """The case's accepted events, in log order."""
    log = await open_log(w.settings)
    try:
        return [e for r, e, v in await judged(log, w.settings) if r.stream == case and v.accepted]
    finally:
        await log.close()


async def case_state(w: World, case: str) -> CaseState:
    writer = await w.oversight.app.state.ledger.writer.writer()
    state = (await writer.live.tracked(case, writer.snapshots)).state.domain
    assert isinstance(state, CaseState)
    return state


async def oversight_doc(w: World, case: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Oversight's document of the case once its read model has ``answer``'s position."""
    ctx = w.oversight.app.state.ledger
    reached = await ctx.served.wait_for({int(p): n for p, n in answer["position"].items()}, 10.0)
    assert reached
    store = await ctx.read_model.store()
    doc = await store.get(OVERSIGHT_CASES, case)
    assert doc is not None
    return dict(doc)


async def assigned_case(w: World, *, anonymous: bool = False) -> tuple[str, str, str]:
    """A complaint filed, screened and assigned to the demo unit: (case, number, code)."""
    body = {**COMPLAINT, "contact": None} if anonymous else COMPLAINT
    receipt = await post(w.intake, Role.INTAKE_CLERK, "/complaints", body)
    case = receipt["stream"]
    await post(w.intake, Role.INTAKE_CLERK, f"/complaints/{case}/screening", {"outcome": "new"})
    await post(w.dispatch, Role.DISPATCH_OFFICER, f"/cases/{case}/assignment", ASSIGN)
    return case, receipt["complaint_no"], receipt["tracking_code"]


async def claim(w: World, case: str) -> dict[str, Any]:
    path = f"/workbench/cases/{case}/resolution-claim"
    return await post(w.oversight, UNIT_HANDLER, path, {"summary": "已整改完毕。"})


async def claimed_case(w: World, *, anonymous: bool = False) -> tuple[str, str, str]:
    case, number, code = await assigned_case(w, anonymous=anonymous)
    await claim(w, case)
    return case, number, code


def closure(basis: str, finding: str = "substantiated") -> dict[str, Any]:
    return {"basis": basis, "finding": finding, "confidential": False}


async def answer_on_page(w: World, number: str, code: str, action: str) -> None:
    async with client(w.intake.app) as citizen:
        r = await follow_up(citizen, complaint_no=number, code=code, action=action)
    assert r.status_code == 200, r.text


# -- the paths ----------------------------------------------------------------------------------


async def test_a_confirmation_closes_the_case(world: Loop) -> None:
    case, number, code = await claimed_case(world)
    [claimed] = [e for e in await events_of(world, case) if e["type"].endswith("claimed.v1")]
    # 回访: the claim records the answer deadline from the time limits and calendar in force.
    expected = due_at(datetime.now(UTC), REVISIT, StatutoryCalendar()).at
    assert datetime.fromisoformat(claimed["data"]["answer_due_at"]) == expected
    await answer_on_page(world, number, code, "confirm")
    closed = await post(
        world.oversight, SUPERVISOR, f"/cases/{case}/closure", closure("complainant_confirmed")
    )
    assert (await oversight_doc(world, case, closed))["basis"] == "complainant_confirmed"
    assert (await case_state(world, case)).status == "closed"


async def test_a_dispute_reopens_the_case_with_fresh_due_times_then_a_confirmation(
    world: Loop,
) -> None:
    case, number, code = await claimed_case(world)
    first_due = (await case_state(world, case)).due_at
    # Before any dispute there is nothing to reopen.
    early = await world.oversight.http.post(
        f"/cases/{case}/reopening",
        json={"reason": "x"},
        headers=world.oversight.as_(SUPERVISOR, key("r")),
    )
    assert assert_problem(early, 409, "conflict")["reason"] == "not_disputed"

    await answer_on_page(world, number, code, "dispute")
    [disputed] = [
        e for e in await events_of(world, case) if e["type"] == "ledger.complainant.disputed.v1"
    ]
    assert (await case_state(world, case)).status == "disputed"
    started = datetime.now(UTC)
    reopened = await post(
        world.oversight,
        SUPERVISOR,
        f"/cases/{case}/reopening",
        {"reason": "投诉人反映窗口仍无人值守，请重新核查整改。"},
    )
    [event] = [e for e in await events_of(world, case) if e["type"] == REOPENED]
    data = event["data"]
    assert data["cause"] == disputed["id"]  # the reopen names the dispute it follows
    fresh = due_at(started, NORMAL, StatutoryCalendar()).at  # counted, not copied
    [unit] = data["units"]
    assert unit["unit"] == UNIT and datetime.fromisoformat(unit["due_at"]) == fresh
    assert unit["due_at"] != first_due
    assert data[NOTICE_FIELD] == (
        "您对办理结果提出的异议已受理，本件已交承办单位重新办理，"
        f"重新办理的期限为{cn_time(unit['due_at'])}。"
    )
    assert REACHES_COMPLAINANT[REOPENED] == "notice"
    state = await case_state(world, case)
    assert state.status == "assigned" and state.reopened == 1  # counts against the unit
    lead = state.clock(UNIT)
    assert lead is not None and lead.due_at == unit["due_at"]
    assert (await oversight_doc(world, case, reopened))["reopened"] == 1
    # A second reopen of the same dispute: refused (the case is no longer disputed).
    again = await world.oversight.http.post(
        f"/cases/{case}/reopening",
        json={"reason": "再次重办"},
        headers=world.oversight.as_(SUPERVISOR, key("r")),
    )
    assert assert_problem(again, 409, "conflict")["reason"] == "not_disputed"

    await claim(world, case)
    await answer_on_page(world, number, code, "confirm")
    await post(
        world.oversight, SUPERVISOR, f"/cases/{case}/closure", closure("complainant_confirmed")
    )
    state = await case_state(world, case)
    assert state.status == "closed" and state.reopened == 1


async def test_an_anonymous_case_is_closed_by_a_supervisor(world: Loop) -> None:
    case, number, code = await claimed_case(world, anonymous=True)
    [claimed] = [e for e in await events_of(world, case) if e["type"].endswith("claimed.v1")]
    assert claimed["data"].get("answer_due_at") is None  # nobody to ask
    async with client(world.intake.app) as citizen:
        r = await follow_up(citizen, complaint_no=number, code=code, action="confirm")
    assert r.status_code == 409 and "匿名投诉无需确认" in r.text
    wrong = await world.oversight.http.post(
        f"/cases/{case}/closure",
        json=closure("inspection_opened"),
        headers=world.oversight.as_(SUPERVISOR, key("c")),
    )
    assert assert_problem(wrong, 409, "conflict")["reason"] == "not_inspection"
    closed = await post(
        world.oversight,
        SUPERVISOR,
        f"/cases/{case}/closure",
        closure("anonymous", "unsubstantiated"),
    )
    doc = await oversight_doc(world, case, closed)
    assert (doc["basis"], doc["finding"]) == ("anonymous", "unsubstantiated")


async def test_a_supervisor_close_while_the_complainant_can_be_asked_is_refused(
    world: Loop,
) -> None:
    case, _, _ = await claimed_case(world)
    for basis in ("no_answer_in_time", "anonymous"):
        r = await world.oversight.http.post(
            f"/cases/{case}/closure",
            json=closure(basis),
            headers=world.oversight.as_(SUPERVISOR, key("c")),
        )
        assert assert_problem(r, 409, "conflict")["reason"] == "complainant_askable"
    # nothing written (checked on the case: the workers write elsewhere in the background)
    assert not [e for e in await events_of(world, case) if e["type"] == CLOSED_TYPE]
    assert (await case_state(world, case)).status == "claimed"


async def test_an_extension_granted_and_one_refused_the_complainant_told_of_both(
    world: Loop,
) -> None:
    case, _, _ = await assigned_case(world)
    writer = await world.oversight.app.state.ledger.writer.writer()
    actor = f"{UNIT}/{demo_staff_id(UNIT_HANDLER)}"

    async def request_extension() -> None:
        # The unit's request, as the workbench writes it for the unit.
        asked = Draft(
            "ledger.handling.extension_requested.v1",
            {"unit": UNIT, "until": "2027-01-29T00:00:00+08:00", "reason": "需协调多部门"},
            actor,
        )
        result = await writer.submit(case, lambda st: [asked])
        assert result.accepted, result.refused

    grant, refuse = f"/cases/{case}/extension-grant", f"/cases/{case}/extension-refusal"
    await request_extension()
    before = (await case_state(world, case)).due_at
    assert before is not None
    too_long = await world.oversight.http.post(
        grant,
        json={"unit": UNIT, "working_days": EXTENSION_AT_MOST + 1, "ruling": "x"},
        headers=world.oversight.as_(SUPERVISOR, key("e")),
    )
    assert assert_problem(too_long, 409, "conflict")["reason"] == "extension_too_long"
    bad = await world.oversight.http.post(
        refuse,
        json={"unit": UNIT, "working_days": 3, "ruling": "x"},
        headers=world.oversight.as_(SUPERVISOR, key("e")),
    )
    assert_problem(bad, 422, "validation")
    await post(
        world.oversight,
        SUPERVISOR,
        grant,
        {"unit": UNIT, "working_days": 5, "ruling": "督办员张三：情况属实，同意"},
    )
    last_day = datetime.fromisoformat(before) - timedelta(microseconds=1)  # due: first late µs
    new_due = due_at(last_day, TimeLimit(amount=5), StatutoryCalendar()).at
    assert datetime.fromisoformat((await case_state(world, case)).due_at or "") == new_due

    await request_extension()
    await post(
        world.oversight,
        SUPERVISOR,
        refuse,
        {"unit": UNIT, "ruling": "督办员张三：理由不充分"},
    )
    assert datetime.fromisoformat((await case_state(world, case)).due_at or "") == new_due
    granted, refused = [e["data"] for e in await events_of(world, case) if e["type"] == RULED]
    assert REACHES_COMPLAINANT[RULED] == "notice"  # the delivery worker sends both
    assert granted["granted"] and datetime.fromisoformat(granted["due_at"]) == new_due
    assert granted[NOTICE_FIELD] == (
        "承办单位申请延长办理期限，经督办机构审核同意，"
        f"办理期限延长至{cn_time(granted['due_at'])}。"
    )
    assert not refused["granted"] and refused.get("due_at") is None
    assert refused[NOTICE_FIELD] == (
        "承办单位申请延长办理期限，经督办机构审核未予同意，"
        f"承办单位须在原定期限{cn_time(granted['due_at'])}前办结。"
    )
    for told in (granted, refused):  # the supervisor's words stay with the unit
        assert "张三" not in told[NOTICE_FIELD] and "督办员" not in told[NOTICE_FIELD]


async def test_an_inspection_finding_opens_a_case_assigned_and_closed_by_a_supervisor(
    world: Loop,
) -> None:
    photo, video = b"\x89PNG photo of an empty window", b"video: staff watching a drama"
    finding = {
        "unit": UNIT,
        "post": "门诊收费窗口",
        "finding": "watching_videos",
        "text": "上午十时许，收费窗口工作人员在岗观看视频，群众排队无人办理。",
        "inspected_on": "2026-11-30T10:05:00+08:00",
        "evidence": [
            {"media_type": "image/png", "data": base64.b64encode(photo).decode()},
            {"media_type": "video/mp4", "data": base64.b64encode(video).decode()},
        ],
    }
    recorded = await post(world.oversight, SUPERVISOR, "/inspections", finding)
    case = recorded["stream"]
    [event] = await events_of(world, case)
    hashes = [hashlib.sha256(b).hexdigest() for b in (photo, video)]
    assert event["type"] == "ledger.inspection.finding_recorded.v1"
    assert event["data"]["evidence"] == hashes and event["data"]["finding"] == "watching_videos"
    store = await world.oversight.app.state.ledger.durable.store()
    assert [await store.get_blob(h) for h in hashes] == [photo, video]  # the files, kept

    await post(world.dispatch, Role.DISPATCH_OFFICER, f"/cases/{case}/assignment", ASSIGN)
    await claim(world, case)
    closed = await post(
        world.oversight, SUPERVISOR, f"/cases/{case}/closure", closure("inspection_opened")
    )
    assert (await oversight_doc(world, case, closed))["basis"] == "inspection_opened"
    state = await case_state(world, case)
    assert state.inspection and state.closed_basis == "inspection_opened"


async def test_the_inspection_form_page_records_a_finding_with_its_files(
    world: Loop,
) -> None:
    async with client(world.oversight.app) as browser:
        await sign_in_page(browser, world.oversight.app, demo_staff_id(SUPERVISOR))
        form = await browser.get("/inspections/new", headers=HTML)
        assert form.status_code == 200 and "暗访登记" in form.text and "在窗口看视频" in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        form_key = re.search(r'name="form_key" value="([^"]+)"', form.text)
        assert csrf and form_key
        r = await browser.post(
            "/inspections/new",
            data={
                "csrf_token": csrf[1],
                "form_key": form_key[1],
                "unit": UNIT,
                "post": "办证窗口",
                "finding": "staff_absent",
                "inspected_on": "2026-11-30T09:30",
                "text": "窗口无人，群众等候二十分钟。",
            },
            files=[("evidence", ("absent.jpg", b"jpeg bytes", "image/jpeg"))],
            headers=HTML,
        )
        assert r.status_code == 200, r.text
        recorded = re.search(r"已登记暗访发现并立案：<code>(case-[0-9a-f-]{36})</code>", r.text)
        assert recorded and "证据 1 份" in r.text
    case = recorded[1]
    # the finding opens the case (the proposal worker may add its penalty proposal after it)
    event = (await events_of(world, case))[0]
    assert event["type"] == "ledger.inspection.finding_recorded.v1"
    assert event["data"]["evidence"] == [hashlib.sha256(b"jpeg bytes").hexdigest()]
    assert event["data"]["inspected_on"] == "2026-11-30T09:30:00+08:00"
    assert (await case_state(world, case)).status == "received"  # for dispatch to assign


def page_form(html: str, action: str) -> dict[str, str]:
    """The hidden fields (csrf token, form key, unit) of the page's form posting to ``action``."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


async def test_the_case_page_forms_grant_refuse_and_reopen_the_dispute_listed(
    world: Loop,
) -> None:
    """The supervisor's forms on 办理全过程: the pending request shown, a grant and a refusal by
    form, a disputed case on the dashboard awaiting 重办 and reopened by form; bad input and a
    refused ruling write nothing."""
    case, number, code = await assigned_case(world)
    page_path = f"/dashboard/cases/{case}"
    grant, refuse, reopen = (
        f"{page_path}/{a}" for a in ("extension-grant", "extension-refusal", "reopening")
    )

    async def ask() -> None:
        body = {"working_days": 5, "reason": "需协调住建部门现场核查"}
        asked = await post(
            world.oversight, UNIT_HANDLER, f"/workbench/cases/{case}/extension-request", body
        )
        await oversight_doc(world, case, asked)

    async with client(world.oversight.app) as browser:
        await sign_in_page(browser, world.oversight.app, demo_staff_id(SUPERVISOR))

        async def shown(after: str = "") -> str:
            r = await browser.get(page_path + after, headers=HTML)
            assert r.status_code == 200, r.text
            return r.text

        async def submit(action: str, **fields: str) -> Any:
            html = await shown()  # each submission its own form key, as a reload gives
            return await browser.post(
                action, data={**page_form(html, action), **fields}, headers=HTML
            )

        await ask()
        html = await shown()
        assert "待审批的延期申请" in html and "需协调住建部门现场核查" in html
        missing = await submit(grant, working_days="", ruling="同意")
        assert missing.status_code == 422 and "1至60个工作日" in missing.text
        too_long = await submit(grant, working_days=str(EXTENSION_AT_MOST + 1), ruling="同意")
        assert too_long.status_code == 409 and "最长延期" in too_long.text
        # neither wrote anything (checked by type: the workers write to cases in the background)
        assert not [e for e in await events_of(world, case) if e["type"] == RULED]
        granted = await submit(grant, working_days="5", ruling="督办员：情况属实，同意")
        assert granted.status_code == 303 and granted.headers["location"].startswith(
            page_path + "?after="
        )
        after = granted.headers["location"][len(page_path) :]
        assert "需协调住建部门现场核查" not in await shown(after)  # ruled: no longer pending

        await ask()
        html = await shown()
        no_ruling = await submit(refuse, ruling=" ")
        assert no_ruling.status_code == 422 and "审批意见" in no_ruling.text
        refused = await submit(refuse, ruling="督办员：理由不充分")
        assert refused.status_code == 303
        ruled = [e["data"] for e in await events_of(world, case) if e["type"] == RULED]
        assert [(r["granted"], r["ruling"]) for r in ruled] == [
            (True, "督办员：情况属实，同意"),
            (False, "督办员：理由不充分"),
        ]

        await claim(world, case)
        await answer_on_page(world, number, code, "dispute")
        assert (await case_state(world, case)).status == "disputed"

        async def awaiting_reopen() -> bool:  # the dispute came through intake: poll for it
            board = (await browser.get("/dashboard", headers=HTML)).text
            listed = board[board.index('id="list-disputed"') :].split("</table>")[0]
            return f'data-case="{case}"' in listed and "待重办" in listed

        await eventually(awaiting_reopen)
        html = await shown()
        assert "重办理由" in html
        empty = await submit(reopen, reason="")
        assert empty.status_code == 422 and "重办理由" in empty.text
        assert not [e for e in await events_of(world, case) if e["type"] == REOPENED]
        reopened = await submit(reopen, reason="投诉人反映仍未整改，请重新核查。")
        assert reopened.status_code == 303
    [event] = [e for e in await events_of(world, case) if e["type"] == REOPENED]
    assert event["data"]["reason"] == "投诉人反映仍未整改，请重新核查。"
    assert event["actor"].endswith(demo_staff_id(SUPERVISOR))
    assert (await case_state(world, case)).status == "assigned"


async def test_no_answer_in_time_then_a_supervisor_closes(world: Loop) -> None:
    """Last: the log's clock moves past the 回访 deadline; the scheduler fires it."""
    case, _, _ = await claimed_case(world)
    due = (await case_state(world, case)).answer_due
    assert due is not None
    world.clock.offset_ns = (due * 1000 - time.time_ns()) + 60 * 10**9  # a minute past it
    # Any record now carries the log's new time; the scheduler reads it and fires.
    await post(
        world.oversight, UNIT_HANDLER, f"/workbench/cases/{case}/replies", {"text": "补充说明。"}
    )

    async def answer_elapsed() -> bool:
        return (await case_state(world, case)).answer_elapsed

    await eventually(answer_elapsed)
    [timer] = [e for e in await events_of(world, case) if e["type"] == ELAPSED]
    assert timer["data"]["deadline"] == "answer" and timer["source"].endswith("/oversight")
    closed = await post(
        world.oversight, SUPERVISOR, f"/cases/{case}/closure", closure("no_answer_in_time")
    )
    doc = await oversight_doc(world, case, closed)
    assert doc["basis"] == "no_answer_in_time"
