"""Returns (退单) and buck-passing (踢皮球) through the running services, driven over HTTP: the
unit asks to return on oversight's workbench with a reason; a dispatch officer refuses it (the
unit's clock keeps running: same lead, same due time), then grants it — and the case goes
straight to the next lead in the same append; the next lead returns it too and it comes back
to the first unit: dispatch's reaction flags the second return and the A → B → A cycle, once
each. The board lists the pending return with its ruling form, the flags, and the load per
unit; the case page draws the transfer path. ``ledger verify`` passes.

Same in-process world as ``test_case_life.py`` (four apps, one SQLite log, their projectors
and dispatch's reactions running)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.integration import test_case_life as life
from tests.integration.test_case_life import (
    COMPLAINT,
    UNIT,
    World,
    after,
    ledger_cli,
    signed_in_page,
)
from tests.timer_logs import judged
from tests.web_fixtures import assert_problem, client, sign_in_page

world = life.world  # the four apps on one log (the fixture)
B = "unit:housing-bureau"
FLAGGED = "ledger.dispatch.buck_passing_flagged.v1"


async def stream_types(world: World, case: str) -> list[tuple[str, dict[str, Any]]]:
    """The case's accepted events (type, data), as the rule book judges the log."""
    log = await open_log(world.settings)
    try:
        return [
            (env["type"], env["data"])
            for rec, env, verdict in await judged(log, world.settings)
            if rec.stream == case and verdict.accepted
        ]
    finally:
        await log.close()


async def refused_flags(world: World) -> list[str]:
    log = await open_log(world.settings)
    try:
        return [
            str(verdict.reason)
            for _, env, verdict in await judged(log, world.settings)
            if env["type"] == FLAGGED and not verdict.accepted
        ]
    finally:
        await log.close()


async def position(world: World) -> dict[str, str]:
    return {"after": ",".join(f"{p}:{n}" for p, n in sorted((await world.head()).items()))}


async def test_a_refused_return_keeps_the_clock_and_a_case_passed_around_is_flagged(
    world: World,
) -> None:
    intake, dispatch, oversight = world.intake, world.dispatch, world.oversight
    officer = Role.DISPATCH_OFFICER
    r = await intake.http.post(
        "/complaints", json=COMPLAINT, headers=intake.as_(Role.INTAKE_CLERK, "rt-1")
    )
    case, number = r.json()["stream"], r.json()["complaint_no"]
    await intake.http.post(
        f"/complaints/{case}/screening",
        json={"outcome": "new"},
        headers=intake.as_(Role.INTAKE_CLERK, "rt-2"),
    )
    r = await dispatch.http.post(
        f"/cases/{case}/assignment",
        json={"lead_unit": UNIT, "working_days": 10, "override_reason": "试点单位"},
        headers=dispatch.as_(officer, "rt-3"),
    )
    assert r.status_code == 201, r.text
    due = (
        await intake.http.get(
            f"/complaints/{case}", params=after(r.json()), headers=intake.as_(Role.INTAKE_CLERK)
        )
    ).json()["due_at"]

    # The unit asks to return, with its reason; a second ask while one is pending is refused.
    ask = {"reason": "该事项属住房保障部门职责"}
    r = await oversight.http.post(
        f"/workbench/cases/{case}/return-request",
        json=ask,
        headers=oversight.as_(Role.UNIT_HANDLER, "rt-4"),
    )
    assert r.status_code == 201, r.text
    asked = r.json()
    again = await oversight.http.post(
        f"/workbench/cases/{case}/return-request",
        json=ask,
        headers=oversight.as_(Role.UNIT_HANDLER, "rt-5"),
    )
    assert assert_problem(again, 409, "conflict")["reason"] == "return_pending"
    board = await signed_in_page(dispatch, officer, "/board", view="returns", **after(asked))
    assert "退单待裁定（1 件）" in board and "该事项属住房保障部门职责" in board
    assert f'action="/board/{case}/return-ruling"' in board

    # Refused: the unit stays the lead with the same due time (首接负责).
    r = await dispatch.http.post(
        f"/cases/{case}/return-ruling",
        json={"unit": UNIT, "granted": False, "ruling": "属本单位职责，继续办理"},
        headers=dispatch.as_(officer, "rt-6"),
    )
    assert r.status_code == 201, r.text
    doc = await intake.http.get(
        f"/complaints/{case}", params=after(r.json()), headers=intake.as_(Role.INTAKE_CLERK)
    )
    assert doc.json()["due_at"] == due and doc.json()["lead_unit"] == UNIT
    assert doc.json()["status"] == "assigned"

    # Asked again and granted: straight to the next lead, in the same append.
    await oversight.http.post(
        f"/workbench/cases/{case}/return-request",
        json={"reason": "确属住房保障部门职责"},
        headers=oversight.as_(Role.UNIT_HANDLER, "rt-7"),
    )
    grant = {"unit": UNIT, "granted": True, "ruling": "准予", "next_lead": B, "working_days": 5}
    r = await dispatch.http.post(
        f"/cases/{case}/return-ruling", json=grant, headers=dispatch.as_(officer, "rt-8")
    )
    assert r.status_code == 201, r.text
    types = [t for t, _ in await stream_types(world, case)]
    assert types[-2:] == ["ledger.dispatch.return_ruled.v1", "ledger.dispatch.assigned.v1"]
    only_the_lead = await dispatch.http.post(
        f"/cases/{case}/return-ruling",
        json={"unit": B, "granted": False, "ruling": "无申请"},
        headers=dispatch.as_(officer, "rt-9"),
    )
    assert assert_problem(only_the_lead, 409, "conflict")["reason"] == "no_return_pending"

    # The next lead returns it too (its own handler, through the workbench's key) ...
    writer = await oversight.app.state.ledger.writer.writer()
    ask_b = Draft(
        "ledger.handling.return_requested.v1",
        {"unit": B, "reason": "应由属地街道办理"},
        f"{B}/H1",
    )
    result = await writer.submit(case, lambda st: [ask_b])
    assert result.accepted, result.refused
    # ... and it goes back to the first unit: returned twice, and A → B → A.
    back = {**grant, "unit": B, "next_lead": UNIT}
    r = await dispatch.http.post(
        f"/cases/{case}/return-ruling", json=back, headers=dispatch.as_(officer, "rt-10")
    )
    assert r.status_code == 201, r.text

    deadline = time.monotonic() + 30
    while len([d for t, d in await stream_types(world, case) if t == FLAGGED]) < 2:
        assert time.monotonic() < deadline, "no flags within 30 s"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # the reaction keeps running: nothing more comes
    flags = [d for t, d in await stream_types(world, case) if t == FLAGGED]
    assert await refused_flags(world) == []  # both in one chained append: no racing copy
    assert sorted((f["pattern"], tuple(f["units"])) for f in flags) == [
        ("cycle", (UNIT, B, UNIT)),
        ("returned_twice", (UNIT, B)),
    ]

    at = await position(world)
    flagged = await signed_in_page(dispatch, officer, "/board", view="flagged", **at)
    assert "踢皮球（1 件）" in flagged and number in flagged
    assert "踢皮球：两次退单" in flagged and "踢皮球：循环转办" in flagged
    load = await signed_in_page(dispatch, officer, "/board", **at)
    assert re.search(rf"<tr class=\"load-row\"><td>{UNIT}</td><td>1</td><td>1</td>", load)
    assert f'<tr class="load-row"><td>{B}</td>' not in load  # holds nothing, never overdue
    page = await signed_in_page(dispatch, officer, f"/board/cases/{case}", **at)
    rows = re.findall(r'<tr class="holding-row"><td>\d+</td><td>([^<]+)</td>', page)
    assert rows == [UNIT, B, UNIT]
    assert page.count("退单获准") == 2 and "持有中" in page and "<svg" in page
    assert f"{UNIT} → {B} → {UNIT}" in page and "Macro" not in page
    assert '<span class="case-status state-warn">办理中</span>' in page

    # Bad input: a precise 422 problem, nothing written, the submitted value never echoed.
    head = await world.head()
    bad = {"unit": UNIT, "granted": True, "ruling": "SECRET-VALUE-1", "next_lead": "SECRET-2"}
    r = await dispatch.http.post(
        f"/cases/{case}/return-ruling", json=bad, headers=dispatch.as_(officer, "rt-11")
    )
    assert_problem(r, 422, "validation")
    assert "SECRET" not in r.text and await world.head() == head
    async with client(dispatch.app) as browser:
        await sign_in_page(browser, dispatch.app, demo_staff_id(officer))
        for params in ({"unit": "SECRET-unit"}, {"view": "everything"}, {"page": "0"}):
            r = await browser.get("/board", params=params, headers={"accept": "text/html"})
            assert r.status_code == 422 and "SECRET" not in r.text, params

    verify = ledger_cli(world.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
