"""Intake's channels end to end through HTTP into the log (an in-process intake app on a
SQLite log made by ``ledger init``, the default directories published): the clerk's entry of
visits, letters and calls with the receipt time and the receiving body; the public complaint
form (anonymous allowed, filed once per form token, rate-limited); normalisation — the unit
resolved against the directory, an unresolved name held for a clerk, the category suggested
and overridden, an out-of-scope matter declined naming its channel, a withdrawal through the
tracking code; the queue's filters and paging. Each filing is exactly one accepted
``complaint.received``; every refusal is a 4xx problem and moves no log head."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.intake.clerk_pages import PAGE_SIZE
from tests.integration.intake_channels_world import (
    HTML,
    IntakeWorld,
    accepted_of,
    csrf_of,
    form_key,
    intake_world,
    receipt_of,
    signed_in,
)
from tests.web_fixtures import assert_problem, bearer, client, token_for

pytestmark = pytest.mark.timeout(240)
CLERK = "demo-intake-clerk"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IntakeWorld]:
    async for w in intake_world(tmp_path / "var", public_rate_limit="1000/minute"):
        yield w


async def clerk_files(
    browser: httpx.AsyncClient, html: bool = True, **fields: str
) -> httpx.Response:
    """The clerk's form posted as a browser does (``html``), or asking for problem+json."""
    token = await csrf_of(browser, "/queue")
    data = {"csrf_token": token, "form_key": form_key(), **fields}
    return await browser.post("/queue/complaints", data=data, headers=HTML if html else {})


async def test_clerk_enters_visits_letters_and_calls_with_receipt_time_and_body(
    world: IntakeWorld,
) -> None:
    async with signed_in(world.app, CLERK) as browser:
        numbers = {}
        for channel, stated in (
            ("visit", "2026-11-30T09:15"),
            ("letter", "2026-11-28T00:00"),
            ("phone", ""),
        ):
            r = await clerk_files(
                browser,
                channel=channel,
                unit="市住建局",
                text="办理不动产登记，窗口拖延三个月不予审批。",
                contact="13812345678",
                received_by="efficiency-office",
                stated_received_at=stated,
            )
            assert r.status_code == 200, r.text
            numbers[channel] = receipt_of(r.text)[0]
        received = await world.received()
        assert len(received) == 3
        by_no = {e["data"]["complaint_no"]: e["data"] for e in received}
        assert set(by_no) == set(numbers.values())
        for channel, number in numbers.items():
            d = by_no[number]
            assert d["channel"] == channel
            assert d["received_by"] == "efficiency-office"
            assert d["unit"] == "unit:housing-bureau"  # the alias 市住建局
            assert d["category"] == "approval_delay"  # suggested: 拖延, 审批
            assert d["complainant"] and "13812345678" not in str(d)
        assert by_no[numbers["visit"]]["stated_received_at"] == "2026-11-30T09:15:00+08:00"
        assert by_no[numbers["phone"]].get("stated_received_at") is None

        # A clerk's own category wins over the suggestion; a channel the page does not enter,
        # a body this deployment does not act for, an unknown body, a category off the list, a
        # bad time: each a 422 problem that writes nothing.
        head = await world.head()
        for bad in (
            {"channel": "open311"},
            {"received_by": "petitions-office"},
            {"received_by": "no-such-body"},
            {"category": "窗口服务"},
            {"stated_received_at": "yesterday"},
        ):
            fields = {"channel": "visit", "unit": "市教育局", "text": "学校审批拖延。", **bad}
            r = await clerk_files(browser, html=False, **fields)
            problem = assert_problem(r, 422, "validation")
            assert "yesterday" not in r.text and "窗口服务" not in r.text
            assert problem["errors"], problem
        assert await world.head() == head
        r = await clerk_files(
            browser, channel="visit", unit="市教育局", text="学校审批拖延。", category="服务态度"
        )
        assert r.status_code == 200
        number = receipt_of(r.text)[0]
        [chosen] = [
            e["data"] for e in await world.received() if e["data"]["complaint_no"] == number
        ]
        assert chosen["category"] == "service_attitude"


async def test_clerk_json_api_names_the_receiving_body(world: IntakeWorld) -> None:
    async with client(world.app) as c:
        token = await token_for(c, world.app, CLERK)
        body = {
            "channel": "phone",
            "unit": "unit:education-bureau",
            "category": "inaction",
            "text": "学校对反映的问题置之不理。",
            "stated_received_at": "2026-12-01T08:30:00+08:00",
        }
        r = await c.post("/complaints", json=body, headers=bearer(token, "k-1"))
        assert r.status_code == 201, r.text
        assert re.fullmatch(r"TSXNB-[0-9A-F]{12}", r.json()["complaint_no"])
        head = await world.head()
        for other in ("petitions-office", "unit:education-bureau", "complainant"):
            r = await c.post(
                "/complaints", json={**body, "received_by": other}, headers=bearer(token, other)
            )
            assert_problem(r, 422, "validation")
        assert await world.head() == head
        [d] = [e["data"] for e in await world.received()]
        assert d["received_by"] == "efficiency-office" and d["channel"] == "phone"
        assert d["stated_received_at"] == "2026-12-01T08:30:00+08:00"


async def public_files(c: httpx.AsyncClient, html: bool = True, **fields: str) -> httpx.Response:
    token = await csrf_of(c, "/public/complaint")
    data = {"csrf_token": token, **fields}
    return await c.post("/public/complaint", data=data, headers=HTML if html else {})


async def test_public_form_files_once_anonymous_allowed_and_refuses_bad_input(
    world: IntakeWorld,
) -> None:
    async with client(world.app) as citizen:
        page = await citizen.get("/public/complaint", headers=HTML)
        assert page.status_code == 200 and 'lang="zh-CN"' in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        fields = {
            "csrf_token": token[1],
            "unit": "市卫健委",
            "text": "医院窗口工作人员上班时间玩手机，群众排队无人办理。",
            "contact": "",
        }
        first = await citizen.post("/public/complaint", data=fields, headers=HTML)
        assert first.status_code == 200, first.text
        number, code = receipt_of(first.text)
        assert "匿名" in first.text
        again = await citizen.post("/public/complaint", data=fields, headers=HTML)
        assert receipt_of(again.text) == (number, code)  # a double click files once
        [d] = [e["data"] for e in await world.received()]
        assert d["complaint_no"] == number and d["channel"] == "web_form"
        assert d["received_by"] == "efficiency-office" and d.get("complainant") is None
        assert d["unit"] == "unit:health-bureau" and d["category"] == "work_discipline"
        [env] = await world.received()
        assert env["actor"] == "efficiency-office/web-form"

        head = await world.head()
        r = await citizen.post("/public/complaint", data={**fields, "csrf_token": "1.2.3"})
        assert_problem(r, 403, "csrf")  # another form's or a forged token
        for bad in ({"text": ""}, {"unit": ""}, {"text": "x" * 20_001}, {"contact": "1" * 101}):
            plain = {k: v for k, v in fields.items() if k != "csrf_token"}
            r = await public_files(citizen, html=False, **{**plain, **bad})
            assert_problem(r, 422, "validation")
            assert "x" * 50 not in r.text
        assert await world.head() == head


async def test_public_form_is_rate_limited(tmp_path: Path) -> None:
    async for w in intake_world(tmp_path / "var", public_rate_limit="3/minute"):
        async with client(w.app) as citizen:
            answers = [
                (await citizen.get("/public/complaint", headers=HTML)).status_code for _ in range(5)
            ]
        assert answers[:3] == [200, 200, 200] and answers[3] == 429


async def test_unresolved_unit_waits_for_a_clerk_and_is_never_guessed(world: IntakeWorld) -> None:
    async with client(world.app) as citizen:
        r = await public_files(citizen, unit="那个管停车的办公室", text="停车收费乱收费，没人管。")
        number, _ = receipt_of(r.text)
    [d] = [e["data"] for e in await world.received()]
    assert d["unit"] == "unit:unresolved" and d["complaint_no"] == number
    case = (await world.received())[0]["subject"]
    async with signed_in(world.app, CLERK) as browser:
        queue = await browser.get("/queue/unresolved", headers=HTML)
        assert number in queue.text and "那个管停车的办公室" in queue.text
        detail = await browser.get(f"/queue/{case}", headers=HTML)
        assert "停车收费乱收费" in detail.text and "待确定" in detail.text
        token = await csrf_of(browser, "/queue/unresolved")
        head = await world.head()
        r = await browser.post(
            f"/queue/{case}/unit",
            data={"csrf_token": token, "form_key": form_key(), "unit": "unit:nowhere"},
        )
        assert_problem(r, 422, "validation")
        assert await world.head() == head
        r = await browser.post(
            f"/queue/{case}/unit",
            data={
                "csrf_token": token,
                "form_key": form_key(),
                "unit": "unit:urban-management",
                "back": "unresolved",
            },
            headers=HTML,
        )
        assert r.status_code == 303, r.text
        landed = await browser.get(r.headers["location"], headers=HTML)
        assert number not in landed.text
        [resolved] = await accepted_of(
            world.log, world.settings, "ledger.complaint.unit_resolved.v1"
        )
        assert resolved["data"] == {"unit": "unit:urban-management"}
        assert resolved["actor"] == f"efficiency-office/{CLERK}"
        head = await world.head()
        r = await browser.post(
            f"/queue/{case}/unit",
            data={"csrf_token": token, "form_key": form_key(), "unit": "unit:health-bureau"},
        )
        assert_problem(r, 409, "conflict")
        assert await world.head() == head


async def test_category_override_decline_and_withdrawal(world: IntakeWorld) -> None:
    async with client(world.app) as citizen:
        r = await public_files(
            citizen, unit="市公安局", text="我要起诉对方，法院判决不公。", contact="13900001111"
        )
        litigation_no, _ = receipt_of(r.text)
        r = await public_files(citizen, unit="市民政局", text="工作人员态度恶劣，训斥群众。")
        withdraw_no, withdraw_code = receipt_of(r.text)
        r = await public_files(
            citizen, unit="市教育局", text="学校审批拖延不办。", contact="13900002222"
        )
        named_no, named_code = receipt_of(r.text)
    cases = {e["data"]["complaint_no"]: e["subject"] for e in await world.received()}
    async with client(world.app) as c:
        token = await token_for(c, world.app, CLERK)
        r = await c.post(
            f"/complaints/{cases[withdraw_no]}/category",
            json={"category": "buck_passing"},
            headers=bearer(token, "cat-1"),
        )
        assert r.status_code == 201, r.text
        head = await world.head()
        r = await c.post(
            f"/complaints/{cases[withdraw_no]}/category",
            json={"category": "窗口服务"},
            headers=bearer(token, "cat-2"),
        )
        assert_problem(r, 422, "validation")
        assert await world.head() == head
    async with signed_in(world.app, CLERK) as browser:
        detail = await browser.get(f"/queue/{cases[litigation_no]}", headers=HTML)
        assert "涉诉事项" in detail.text and "疑似" in detail.text
        token = await csrf_of(browser, f"/queue/{cases[litigation_no]}")
        r = await browser.post(
            f"/queue/{cases[litigation_no]}/decline",
            data={"csrf_token": token, "form_key": form_key(), "reason_code": "litigation"},
            headers=HTML,
        )
        assert r.status_code == 303, r.text
    [declined] = await accepted_of(world.log, world.settings, "ledger.complaint.declined.v1")
    assert declined["subject"] == cases[litigation_no]
    assert (
        declined["data"]["reason_code"] == "litigation" and "人民法院" in declined["data"]["reason"]
    )
    [recat] = await accepted_of(world.log, world.settings, "ledger.complaint.recategorised.v1")
    assert recat["data"] == {"category": "buck_passing"}

    async with client(world.app) as citizen:
        head = await world.head()
        token = await csrf_of(citizen, "/public/withdrawal")
        r = await citizen.post(
            "/public/withdrawal",
            data={
                "csrf_token": token,
                "complaint_no": withdraw_no,
                "code": "0000-0000-0000-0000",
                "reason": "solved_otherwise",
            },
            headers=HTML,
        )
        assert r.status_code == 404 and "不正确" in r.text
        assert await world.head() == head
        for number, code in ((withdraw_no, withdraw_code), (named_no, named_code)):
            token = await csrf_of(citizen, "/public/withdrawal")
            r = await citizen.post(
                "/public/withdrawal",
                data={
                    "csrf_token": token,
                    "complaint_no": number,
                    "code": code.lower(),
                    "reason": "solved_otherwise",
                },
                headers=HTML,
            )
            assert r.status_code == 200 and "已撤回" in r.text, r.text
        token = await csrf_of(citizen, "/public/withdrawal")
        head = await world.head()
        r = await citizen.post(
            "/public/withdrawal",
            data={
                "csrf_token": token,
                "complaint_no": named_no,
                "code": named_code,
                "reason": "filed_by_mistake",
            },
            headers=HTML,
        )
        assert r.status_code == 409  # already withdrawn: nothing more written (a page, HTML)
        assert await world.head() == head
    withdrawn = await accepted_of(world.log, world.settings, "ledger.complaint.withdrawn.v1")
    actors = {w["subject"]: w["actor"] for w in withdrawn}
    assert actors[cases[withdraw_no]] == "efficiency-office/tracking-code"  # anonymous
    assert actors[cases[named_no]].startswith("complainant/")


async def test_queue_filters_and_pages(world: IntakeWorld) -> None:
    async with client(world.app) as c:
        token = await token_for(c, world.app, CLERK)
        for i in range(PAGE_SIZE + 3):
            body = {
                "channel": "letter" if i % 2 else "visit",
                "unit": "unit:education-bureau" if i % 3 == 0 else "unit:civil-affairs",
                "category": "other",
                "text": f"第{i}封：办事拖延。",
            }
            r = await c.post("/complaints", json=body, headers=bearer(token, f"q-{i}"))
            assert r.status_code == 201, r.text
        position = r.json()["position"]
    after = ",".join(f"{p}:{n}" for p, n in position.items())
    async with signed_in(world.app, CLERK) as browser:

        def numbers(html: str) -> list[str]:
            return re.findall(r'class="case-no"><a href="/queue/case-[0-9a-f-]+">(TS[^<]+)<', html)

        first = await browser.get("/queue", params={"view": "all", "after": after}, headers=HTML)
        assert len(numbers(first.text)) == PAGE_SIZE and "下一页" in first.text
        second = await browser.get("/queue", params={"view": "all", "page": 2}, headers=HTML)
        assert len(numbers(second.text)) == 3
        assert not set(numbers(first.text)) & set(numbers(second.text))
        letters = await browser.get(
            "/queue", params={"view": "all", "channel": "letter"}, headers=HTML
        )
        assert len(numbers(letters.text)) == (PAGE_SIZE + 3) // 2
        edu = await browser.get(
            "/queue", params={"view": "all", "unit": "unit:education-bureau"}, headers=HTML
        )
        assert len(numbers(edu.text)) == len(range(0, PAGE_SIZE + 3, 3))
        mine = await browser.get(
            "/queue",
            params={"view": "all", "received_by": "efficiency-office", "state": "received"},
            headers=HTML,
        )
        assert len(numbers(mine.text)) == PAGE_SIZE
        none = await browser.get(
            "/queue", params={"view": "all", "state": "withdrawn"}, headers=HTML
        )
        assert numbers(none.text) == []
        r = await browser.get("/queue", params={"page": 0}, headers=HTML)
        assert r.status_code == 422
