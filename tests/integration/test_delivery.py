"""Replies out to every complainant of a case, on a real SQLite log with a real SMTP server
(aiosmtpd): one case with its own e-mail complaint and two gathered duplicates (a phone call, a
letter) and a platform complaint; the unit's reply and the closing finding reach each on their
channel — exactly one e-mail to the right address, one call-list row, one letter, one platform
line — each recorded once as ``complaint.delivered`` naming channel and cause and no address;
a rerun delivers nothing new; a worker killed (SIGKILL) before it records the events and
restarted delivers each once, and the chosen crash side (after the SMTP server took a message,
before its row is marked) repeats that e-mail with the same Message-ID."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.intake.app import create as create_intake
from services.intake.delivery import CONTEST, delivery_id
from services.intake.delivery_channels import OUTBOX, DeliverySettings, Outbox
from services.intake.delivery_worker import Delivery
from services.intake.vault_content import Identity
from shared.durable import open_durable
from shared.events.catalog import DeliveryChannel
from shared.ledger.deployments import spec
from shared.log.port import read_all
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.conftest import REPO, settings_env
from tests.delivery_support import Filed, Mailbox, World, open_world, smtp_server
from tests.integration.test_case_life import follow_up, form_token
from tests.samples import HANDLER
from tests.screening_support import eventually
from tests.timer_logs import judged, of_type
from tests.web_fixtures import assert_problem, client, sign_in_page

DELIVERED = "ledger.complaint.delivered.v1"
EMAIL = "complainant-a@example.cn"
PHONE = "13812345678"
ADDRESS = "广州市越秀区东风中路 100 号"
REPLY = "经办人王建国已于 11 月 20 日约谈窗口负责人，恢复正常排班。"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await open_world(tmp_path / "var", public_rate_limit="1000/minute")
    try:
        yield w
    finally:
        await w.log.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


async def a_case(world: World) -> dict[str, Filed]:
    """Own complaint by e-mail; duplicates by phone and by letter gathered in; a platform's."""
    mail = await world.file("email", Identity(email=EMAIL, contact=EMAIL))
    phone = await world.file("phone", Identity(name="李四", phone=PHONE))
    letter = await world.file("letter", Identity(name="张三", address=ADDRESS, phone="13900000001"))
    platform = await world.file(
        "online_platform", Identity(contact="13900000002"), platform="人民网"
    )
    for dup in (phone, letter, platform):
        await world.gather(mail, dup)
    await world.assign(mail)
    return {"email": mail, "phone": phone, "letter": letter, "platform": platform}


def config(port: int) -> DeliverySettings:
    return DeliverySettings(poll_seconds=0.05, smtp_host="127.0.0.1", smtp_port=port)


@asynccontextmanager
async def worker(world: World, port: int) -> AsyncIterator[Delivery]:
    d = Delivery(world.settings, "intake", spec("intake").deployment, config(port))
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    try:
        await asyncio.wait_for(d.caught_up.wait(), 60)
        yield d
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def delivered(world: World) -> list[dict]:
    events, _ = of_type(await judged(world.log, world.settings), DELIVERED)
    return [e for _, e in events]


async def count_delivered(world: World, n: int) -> bool:
    return len(await delivered(world)) >= n


async def outbox_rows(world: World) -> list:
    store = await open_durable(world.settings, "intake")
    try:
        return await Outbox(store).rows(*DeliveryChannel)
    finally:
        await store.close()


async def test_a_reply_and_the_finding_reach_every_linked_complainant_once(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    cases = await a_case(world)
    await world.reply(cases["email"], REPLY)
    async with worker(world, port):
        await eventually(lambda: count_delivered(world, 4))
    events = await delivered(world)
    by_no = {e["data"]["complaint_no"]: e for e in events}
    assert {by_no[f.number]["data"]["channel"] for f in cases.values()} == {
        "email",
        "phone",
        "letter",
        "online_platform",
    }
    assert by_no[cases["phone"].number]["data"]["channel"] == "phone"
    assert by_no[cases["letter"].number]["data"]["channel"] == "letter"
    assert all(e["subject"] == cases["email"].case for e in events)  # on the case replied
    assert all(e["data"]["what"] == "reply" for e in events)
    [reply_cause] = {e["data"]["cause"] for e in events}
    for f in cases.values():
        assert by_no[f.number]["id"] == delivery_id(reply_cause, f.number)
    # Exactly one e-mail, to the e-mail complainant, with the reply redacted.
    assert len(box.messages) == 1 and box.recipients == [[EMAIL]]
    [mail] = box.messages
    body = mail.get_payload(decode=True).decode()
    assert "恢复正常排班" in body and "王建国" not in body
    assert mail["Message-ID"].startswith(f"<{by_no[cases['email'].number]['id']}@")
    rows = await outbox_rows(world)
    assert sorted(r.channel.value for r in rows) == ["email", "letter", "online_platform", "phone"]
    assert all(r.sent for r in rows)
    # The unit never learns who complained: no address, number or name in the log.
    raw = b"".join([rec.record async for rec in read_all(world.log)])
    for value in (EMAIL, PHONE, ADDRESS, "李四", "张三"):
        assert value.encode() not in raw
    # The clerks' lists and the platform's file, over HTTP (contacts from the vault).
    app = create_intake(world.settings)
    async with app.router.lifespan_context(app), client(app) as clerk:
        await sign_in_page(clerk, app, demo_staff_id(Role.INTAKE_CLERK))
        calls = await clerk.get("/deliveries/calls", headers={"accept": "text/html"})
        assert calls.status_code == 200 and PHONE in calls.text
        assert calls.text.count('class="case-no"') == 1
        text = (await clerk.get("/deliveries/calls.csv")).text.lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 2 and rows[1][:3] == [cases["phone"].number, PHONE, "李四"]
        letters = await clerk.get("/deliveries/letters", headers={"accept": "text/html"})
        assert ADDRESS in letters.text and letters.text.count("letter-sheet") == 1
        sent = await clerk.get("/deliveries/platform.jsonl", params={"platform": "人民网"})
        [line] = sent.text.splitlines()
        assert cases["platform"].number in line and "13900000002" not in line
        async with client(app) as anonymous:  # not signed in: the sign-in gate answers
            r = await anonymous.get("/deliveries/calls.csv")
            assert r.status_code in (302, 303, 401) and PHONE not in r.text
    # A rerun delivers nothing new.
    async with worker(world, port) as again:
        await asyncio.sleep(0.5)
        assert again.waiting == {}
    assert len(await delivered(world)) == 4 and len(box.messages) == 1
    # The closing finding, with how to contest it, reaches each again (its own cause).
    await world.claim(cases["email"])
    await world.confirm(cases["email"])
    await world.close(cases["email"])
    async with worker(world, port):
        await eventually(lambda: count_delivered(world, 8))
    closures = [e for e in await delivered(world) if e["data"]["what"] == "closure"]
    assert len(closures) == 4 and len(box.messages) == 2
    assert CONTEST in box.messages[1].get_payload(decode=True).decode()


def _standalone(world: World, port: int, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = settings_env(world.settings)
    env.update(
        {
            "LEDGER_DEPLOYMENT": "intake",
            "LEDGER_DELIVERY_POLL_SECONDS": "0.05",
            "LEDGER_DELIVERY_SMTP_HOST": "127.0.0.1",
            "LEDGER_DELIVERY_SMTP_PORT": str(port),
        }
    )
    env.pop("LEDGER_CRASH_AT", None)
    if crash_at is not None:
        env["LEDGER_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "services.intake.delivery_worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _run_until(world: World, port: int, n: int) -> None:
    proc = _standalone(world, port, None)
    try:
        await eventually(lambda: count_delivered(world, n), 120)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("crash_at", "mails"),
    [
        ("delivery_before_event:1", 1),  # rows and e-mail done, events not: none repeated
        ("delivery_after_send_before_mark:1", 2),  # the chosen side: the e-mail once more
    ],
)
async def test_killed_and_restarted_each_delivery_is_recorded_once(
    world: World, smtp: tuple[Mailbox, int], crash_at: str, mails: int
) -> None:
    box, port = smtp
    cases = await a_case(world)
    await world.reply(cases["email"], REPLY)
    first = _standalone(world, port, crash_at)
    assert first.wait(120) == -signal.SIGKILL, first.communicate()[1].decode()[-3000:]
    assert await delivered(world) == []  # killed before any event
    await _run_until(world, port, 4)
    await asyncio.sleep(0.3)
    events = await delivered(world)
    assert len(events) == 4 and len({e["id"] for e in events}) == 4
    assert len(box.messages) == mails
    assert len({m["Message-ID"] for m in box.messages}) == 1  # a repeat is the same message
    store = await open_durable(world.settings, "intake")
    try:
        assert len(await store.scan(OUTBOX)) == 4
    finally:
        await store.close()


# -- the status page and the score, through HTTP on the intake app -----------------------------


async def _page(app: FastAPI, world: World, citizen: httpx.AsyncClient, f: Filed) -> str:
    """The status page once intake's read model holds the log as it is now."""
    served = app.state.ledger.served
    assert await served.wait_for(await world.log.head(), 30)
    r = await follow_up(citizen, complaint_no=f.number, code=f.code)
    assert r.status_code == 200, r.text
    return r.text


async def test_the_status_page_shows_only_what_is_safe_and_takes_one_score(world: World) -> None:
    cases = await a_case(world)
    mail, phone = cases["email"], cases["phone"]
    staff_phone = "13700001111"
    await world.reply(mail, REPLY + f"如有疑问请致电 {staff_phone}。")
    app = create_intake(world.settings)
    async with app.router.lifespan_context(app), client(app) as citizen:
        # A gathered duplicate's complainant follows the case it was gathered into.
        page = await _page(app, world, citizen, phone)
        assert "恢复正常排班" in page
        assert "办理中" in page and phone.number in page
        for secret in ("王建国", staff_phone, "H001", HANDLER, PHONE, "李四", EMAIL):
            assert secret not in page
        early = await follow_up(
            citizen, complaint_no=phone.number, code=phone.code, action="rate", rating="4"
        )
        assert early.status_code == 409  # no outcome yet
        await world.claim(mail)
        await world.confirm(mail)
        await world.close(mail)
        page = await _page(app, world, citizen, phone)
        assert "属实" in page and CONTEST in page and 'name="rating"' in page
        head = await world.log.head()
        for bad in ({"rating": "6"}, {"rating": "0"}, {"rating": "很好"}, {}):
            r = await follow_up(
                citizen, complaint_no=phone.number, code=phone.code, action="rate", **bad
            )
            assert r.status_code == 422, (bad, r.status_code)
            assert "很好" not in r.text
        token = await form_token(citizen, "/public/follow-up")
        fields = {"complaint_no": phone.number, "code": phone.code, "action": "rate"}
        r = await citizen.post(
            "/public/follow-up",
            data={"csrf_token": token, **fields, "rating": "6"},
            headers={"accept": "application/json"},
        )
        problem = assert_problem(r, 422, "validation")
        assert "6" not in str(problem.get("errors", ""))  # never echoes the value
        wrong = await follow_up(
            citizen,
            complaint_no=phone.number,
            code="0000-0000-0000-0000",
            action="rate",
            rating="4",
        )
        assert wrong.status_code == 404
        assert await world.log.head() == head  # bad input wrote nothing
        r = await follow_up(
            citizen, complaint_no=phone.number, code=phone.code, action="rate", rating="4"
        )
        assert r.status_code == 200 and "您的满意度评价已记录" in r.text
        again = await follow_up(
            citizen, complaint_no=phone.number, code=phone.code, action="rate", rating="5"
        )
        assert again.status_code == 409
    events, refused = of_type(
        await judged(world.log, world.settings), "ledger.complainant.satisfaction_rated.v1"
    )
    assert refused == 0
    [(_, rated)] = events
    assert rated["subject"] == mail.case
    assert rated["data"] == {"complaint_no": phone.number, "rating": 4}
