"""The joint conference through HTTP, with members from two bodies' deployments on one log
(SQLite, and Kafka with 3 partitions): 市效能办's dispatch (``dispatch-a``, also the shared
dispatch through which 市委督查办's member operator speaks) convenes; 信访部门 speaks through its
own dispatch (``dispatch-b``); oversight's real scheduler writes the opinion deadline to the
conference stream; the convener records the decision with 缺席默认; its ruling follows on the
case concerned; ``ledger verify`` passes and ``ledger replay`` prints the minutes.

Each refusal is a precise problem and writes nothing: an unknown member, a second
opinion, a non-member's opinion, an opinion for a body the deployment may not act for, a
decision before the deadline with a member absent, a stated tally the stream contradicts,
a decision by a body other than the convener (409)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from services.dispatch.conference import ruling_id
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.service import declaration
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.conftest import settings_for
from tests.integration.test_two_bodies import ledger
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

OFFICE, PETITIONS, PARTY = "efficiency-office", "petitions-office", "party-inspection-office"
DEPLOYMENTS = f"""
[[deployment]]
name = "intake"
service = "intake"
body = "{OFFICE}"

[[deployment]]
name = "dispatch-a"          # 市效能办's dispatch, shared with 市委督查办's member operators
service = "dispatch"
body = "{OFFICE}"
acts_for = ["{OFFICE}", "{PARTY}"]

[[deployment]]
name = "dispatch-b"          # 信访部门's own dispatch
service = "dispatch"
body = "{PETITIONS}"
port = 8102

[[deployment]]
name = "oversight"
service = "oversight"
body = "{OFFICE}"
"""
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口工作人员长时间离岗，群众排队无人办理。",
}
PARTY_MEMBER = "P100"
PARTY_PASSWORD = "a-long-test-password-for-P100"
HTML = {"accept": "text/html"}
BACKENDS = [
    pytest.param("sqlite", id="sqlite-3"),
    pytest.param("kafka", id="kafka-3", marks=pytest.mark.kafka),
]


@dataclass
class App:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str, key: str | None = None) -> dict[str, str]:
        return bearer(self.tokens[who], key)


@dataclass
class World:
    settings: WebSettings
    log: EventLog
    intake: App
    a: App
    b: App

    async def head(self) -> dict[int, int]:
        return await self.log.head()


def after(answer: dict[str, Any]) -> dict[str, str]:
    return {"after": ",".join(f"{p}:{n}" for p, n in answer["position"].items())}


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    base = settings_for(request.param, 3, tmp_path / "var")
    file = tmp_path / "deployments.toml"
    file.write_text(DEPLOYMENTS, encoding="utf-8")
    settings = fast_settings(
        base.var_dir,
        log_backend=base.log_backend,
        log_partitions=3,
        kafka_bootstrap=base.kafka_bootstrap,
        kafka_topic=base.kafka_topic,
        deployments_file=file,
        projector_poll_seconds=0.1,
        read_your_writes_seconds=20.0,
    )
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings)
    try:
        async with contextlib.AsyncExitStack() as stack:
            apps: dict[str, App] = {}
            for name in ("intake", "dispatch-a", "dispatch-b", "oversight"):
                s = spec(name, settings)
                app = declaration(s.service).create_app(settings, s)
                http = await stack.enter_async_context(client(app))
                await stack.enter_async_context(app.router.lifespan_context(app))
                apps[name] = App(app, http)
            intake, a, b = apps["intake"], apps["dispatch-a"], apps["dispatch-b"]
            intake.tokens["clerk"] = await token_for(
                intake.http, intake.app, demo_staff_id(Role.INTAKE_CLERK)
            )
            for svc in (a, b):
                for role in (Role.DISPATCH_OFFICER, Role.CONFERENCE_MEMBER):
                    svc.tokens[role] = await token_for(svc.http, svc.app, demo_staff_id(role))
            # 市委督查办's member operator at the shared dispatch: the operator's body is theirs.
            # And an operator of 信访部门 there, which that dispatch may not speak for.
            for who, staff, body in (("party", PARTY_MEMBER, PARTY), ("stray", "P200", PETITIONS)):
                a.app.state.ledger.identity.add_operator(
                    staff, body, [Role.CONFERENCE_MEMBER], PARTY_PASSWORD
                )
                r = await a.http.post(
                    "/auth/token", json={"staff_id": staff, "password": PARTY_PASSWORD}
                )
                assert r.status_code == 200, r.text
                a.tokens[who] = r.json()["access_token"]
            yield World(settings, log, intake, a, b)
    finally:
        await log.close()


async def stream_types(log: EventLog, stream: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    async for rec in read_all(log):
        if rec.stream == stream:
            env = orjson.loads(rec.record)
            out.append((env["type"], env))
    return out


async def eventually(check: Any, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_a_joint_conference_of_two_bodies_deployments_on_one_log(world: World) -> None:
    a, b, intake = world.a, world.b, world.intake
    officer, member = Role.DISPATCH_OFFICER, Role.CONFERENCE_MEMBER
    r = await intake.http.post("/complaints", json=COMPLAINT, headers=intake.as_("clerk", "c1"))
    assert r.status_code == 201, r.text
    filed = r.json()
    case = filed["stream"]

    # 召集: an unknown member body is a 409 naming the field, and writes nothing.
    # Far enough ahead that every check before the deadline is done before the timer fires.
    due = datetime.now(UTC) + timedelta(seconds=60)
    convene = {
        "members": [OFFICE, PETITIONS, PARTY],
        "cases": [case],
        "question": "该件涉及多个部门职责交叉，是否由市效能办牵头并联办理？",
        "rule": "majority",
        "opinions_due_at": due.isoformat(),
    }
    head = await world.head()
    bad = {**convene, "members": [OFFICE, "no-such-office"]}
    r = await a.http.post(
        "/conferences", json=bad, params=after(filed), headers=a.as_(officer, "k0")
    )
    problem = assert_problem(r, 409, "conflict")
    assert (problem["reason"], problem["location"]) == ("unknown_body", ["body", "members", 1])
    assert "no-such-office" not in r.text
    assert await world.head() == head
    r = await a.http.post(
        "/conferences", json=convene, params=after(filed), headers=a.as_(officer, "k1")
    )
    assert r.status_code == 201, r.text
    convened = r.json()
    conf = convened["stream"]
    assert conf.startswith("conf-")

    # Members are notified: 信访部门's own dispatch lists the pending opinion.
    async with client(b.app) as browser:
        await sign_in_page(browser, b.app, demo_staff_id(member))
        page = await browser.get("/conferences/pending", params=after(convened), headers=HTML)
    assert page.status_code == 200 and conf in page.text and "职责交叉" in page.text

    # The shared dispatch may not speak for 信访部门: refused before signing (the registry).
    head = await world.head()
    stray = {"opinion": "consent", "text": "代为发表"}
    r = await a.http.post(f"/conferences/{conf}/opinion", json=stray, headers=a.as_("stray", "s1"))
    assert assert_problem(r, 409, "conflict")["reason"] == "foreign_key"
    assert await world.head() == head

    # 信访部门 objects, through its own deployment; a second opinion is refused, nothing written.
    opinion = {"opinion": "object", "text": "应由区级先行处理，市级再行督办。"}
    r = await b.http.post(f"/conferences/{conf}/opinion", json=opinion, headers=b.as_(member, "o1"))
    assert r.status_code == 201, r.text
    head = await world.head()
    again = {"opinion": "consent", "text": "改为同意"}
    r = await b.http.post(f"/conferences/{conf}/opinion", json=again, headers=b.as_(member, "o2"))
    assert assert_problem(r, 409, "conflict")["reason"] == "opinion_given"
    assert await world.head() == head

    # 市委督查办 consents through the shared dispatch, as itself.
    consent = {"opinion": "consent", "text": "同意由市效能办牵头。"}
    r = await a.http.post(
        f"/conferences/{conf}/opinion", json=consent, headers=a.as_("party", "p1")
    )
    assert r.status_code == 201, r.text
    party_opinion = r.json()

    # A non-member's opinion is refused: a conference without 信访部门.
    r = await a.http.post(
        "/conferences",
        json={**convene, "members": [OFFICE, PARTY]},
        params=after(filed),
        headers=a.as_(officer, "k2"),
    )
    assert r.status_code == 201, r.text
    other = r.json()["stream"]
    head = await world.head()
    r = await b.http.post(
        f"/conferences/{other}/opinion", json=opinion, headers=b.as_(member, "o3")
    )
    assert assert_problem(r, 409, "conflict")["reason"] == "not_member"
    assert await world.head() == head

    # Before the deadline, with 市效能办 absent, no decision; nor by a body not the convener.
    decision = {"decision": "由市效能办牵头，信访部门、市委督查办配合并联办理。"}
    r = await a.http.post(
        f"/conferences/{conf}/decision", json=decision, headers=a.as_(officer, "d1")
    )
    assert assert_problem(r, 409, "conflict")["reason"] == "too_early"
    r = await b.http.post(
        f"/conferences/{conf}/decision", json=decision, headers=b.as_(officer, "d2")
    )
    assert assert_problem(r, 409, "conflict")["reason"] == "not_convener"
    assert await world.head() == head

    # The timer (oversight's scheduler) writes the opinion deadline to the conference stream.
    async def elapsed() -> dict[str, Any] | None:
        r = await a.http.get(
            f"/conferences/{conf}", params=after(party_opinion), headers=a.as_(officer)
        )
        assert r.status_code == 200, r.text
        record: dict[str, Any] = r.json()
        return record if record["opinions_elapsed_at"] else None

    record = await eventually(elapsed, 150.0)
    assert record["pending"] == [OFFICE]

    # A stated tally the stream contradicts is refused by the rule book, before signing.
    wrong = {
        **decision,
        "tally": {"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 1},
        "absent_deemed_consent": [OFFICE],
    }
    head = await world.head()
    r = await a.http.post(f"/conferences/{conf}/decision", json=wrong, headers=a.as_(officer, "d3"))
    assert assert_problem(r, 409, "conflict")["reason"] == "wrong_state"
    assert await world.head() == head

    # The decision: 市效能办 absent, deemed consenting and named; 2 of 3 consent: adopted.
    r = await a.http.post(
        f"/conferences/{conf}/decision", json=decision, headers=a.as_(officer, "d4")
    )
    assert r.status_code == 201, r.text
    decided_answer = r.json()
    decided_id = decided_answer["events"][0]["id"]
    r = await a.http.get(
        f"/conferences/{conf}", params=after(decided_answer), headers=a.as_(officer)
    )
    record = r.json()
    assert record["status"] == "decided"
    assert record["decision"]["absent_deemed_consent"] == [OFFICE]
    assert record["decision"]["tally"] == {
        "consent": 1,
        "object": 1,
        "abstain": 0,
        "deemed_consent": 1,
    }
    assert record["decision"]["outcome"] == "adopted"

    # An opinion is never changed after; its member may explain it by a note.
    note = {"note": "如区级处理不力，同意市级直接督办。"}
    r = await b.http.post(
        f"/conferences/{conf}/opinion/note", json=note, headers=b.as_(member, "n1")
    )
    assert r.status_code == 201, r.text

    # The decision's effect on the case concerned: its own event, derived once.
    async def ruled() -> list[dict[str, Any]]:
        return [
            e for t, e in await stream_types(world.log, case) if t.endswith("conference_ruled.v1")
        ]

    rulings = await eventually(ruled)
    assert len(rulings) == 1 and rulings[0]["id"] == ruling_id(decided_id, case)
    assert rulings[0]["data"]["conference"] == conf
    assert rulings[0]["data"]["outcome"] == "adopted"
    assert rulings[0]["source"] == "/bodies/efficiency-office/dispatch"

    # Each opinion was signed by the deployment it went through, naming its own body.
    signed = {
        e["data"]["member"]: (e["source"], e["actor"])
        for t, e in await stream_types(world.log, conf)
        if t.endswith("opinion_given.v1")
    }
    assert signed == {
        PETITIONS: ("/bodies/petitions-office/dispatch", f"{PETITIONS}/demo-conference-member"),
        PARTY: ("/bodies/efficiency-office/dispatch", f"{PARTY}/{PARTY_MEMBER}"),
    }

    # Pages: the archive lists it; the minutes name who was deemed to consent.
    async with client(a.app) as browser:
        await sign_in_page(browser, a.app, demo_staff_id(officer))
        archive = await browser.get("/conferences/archive", headers=HTML)
        minutes = await browser.get(f"/conferences/{conf}/minutes", headers=HTML)
        printable = await browser.get(f"/conferences/{conf}/minutes/print", headers=HTML)
        open_page = await browser.get("/conferences", headers=HTML)
    assert archive.status_code == 200 and conf in archive.text and "通过" in archive.text
    assert "缺席，视为同意" in minutes.text and "应由区级先行处理" in minutes.text
    assert "如区级处理不力" in minutes.text
    assert printable.status_code == 200 and "联席会议纪要" in printable.text
    assert other in open_page.text and conf not in open_page.text  # decided: archived

    # The record: verify passes; replay prints the minutes readably.
    code, out = await ledger(world.settings, "verify", "--no-seal")
    assert code == 0, out
    code, out = await ledger(world.settings, "replay", conf)
    assert code == 0, out
    for text in (
        "联席会议纪要",
        "议题：该件涉及多个部门职责交叉",
        "信访部门（petitions-office）：反对",
        "意见说明：应由区级先行处理，市级再行督办。",
        "补充说明",
        "市委督查办（party-inspection-office）：同意",
        "决定（",
        "由市效能办牵头，信访部门、市委督查办配合并联办理。",
        "表决结果：同意 1，反对 1，弃权 0，缺席视为同意 1",
        "通过",
        "缺席默认（视为同意）：市效能办（efficiency-office）",
    ):
        assert text in out, (text, out)
