"""The supervision dashboard, a case's timeline and oversight's gauges, through the oversight
app on a real SQLite log: signed histories appended, the app's projector follows them, a
supervisor reads the pages (tabs and counts, every unit's clock, each event in words, never
the complainant's pseudonym) and ``/metrics`` carries the open, overdue and escalated counts.
The scheduler is off: the histories carry their own timer and escalation events."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from services.oversight.app import create as create_oversight
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.log.factory import open_log
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.samples import CO_UNIT, DUE, LATER, UNIT, H, new_case
from tests.timer_logs import ASSIGN, ELAPSED, ESCALATED, Histories, assignment
from tests.web_fixtures import client, fast_settings, sign_in_page

HTML = {"accept": "text/html"}
CLAIMED = "ledger.handling.resolution_claimed.v1"


async def test_the_dashboard_timeline_and_gauges_show_the_read_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_SCHEDULER_ENABLED", "false")
    settings = fast_settings(tmp_path / "var", log_partitions=3, projector_poll_seconds=0.1)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
        h = await Histories(log, settings).start()
        late, waiting, fresh = new_case(), new_case(), new_case()
        overdue = {
            "ledger.dispatch.assigned.v1": assignment(DUE, [(CO_UNIT, LATER)]),
            ELAPSED: {"deadline": "handling", "unit": UNIT, "due_at": DUE},
            ESCALATED: {"level": 1, "reason": "牵头单位超过办理时限未办结"},
        }
        await h.write(late, [*ASSIGN, ELAPSED, ESCALATED], overdue)
        claimed = {"ledger.dispatch.assigned.v1": assignment(LATER), CLAIMED: {"unit": UNIT}}
        await h.write(waiting, [*ASSIGN, CLAIMED], claimed)
        await h.write(fresh, ASSIGN, {"ledger.dispatch.assigned.v1": assignment(LATER)})
    finally:
        await log.close()

    app = create_oversight(settings)
    async with client(app) as browser, app.router.lifespan_context(app):
        await sign_in_page(browser, app, demo_staff_id(Role.SUPERVISOR))
        expected = {
            "overdue": "1",
            "due_soon": "0",
            "escalated": "1",
            "claimed": "1",
            "disputed": "0",
            "resolved": "0",
        }
        deadline = time.monotonic() + 30
        while True:  # until the projector has applied all three histories
            page = (await browser.get("/dashboard", headers=HTML)).text
            counts = dict(re.findall(r'<strong class="count" data-tab="(\w+)">(\d+)<', page))
            if counts == expected and 'data-status="assigned">2<' in page:
                break
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.1)
        titles = re.findall(r'<h2 id="list-\w+">(.*?)</h2>', page)
        assert titles == [
            "超时件（1 件）",
            "待投诉人确认（1 件）",
            "投诉人不认可（0 件）",  # awaiting 重办
            "已确认待办结（0 件）",
        ], titles
        assert f'<tr class="overdue-unit"><td>{UNIT}</td><td class="state-bad">1<' in page
        assert f'action="/dashboard/{waiting}/closure"' in page

        escalated = (
            await browser.get("/dashboard", params={"tab": "escalated"}, headers=HTML)
        ).text
        assert f'data-case="{late}"' in escalated and "第 1 级" in escalated
        assert f'data-case="{waiting}"' not in escalated
        other = {"tab": "overdue", "unit": "unit:housing-bureau"}
        filtered = (await browser.get("/dashboard", params=other, headers=HTML)).text
        assert "超时件（0 件）" in filtered and f'data-case="{late}"' not in filtered
        bad = await browser.get("/dashboard", params={"after_key": "1|x"}, headers=HTML)
        assert bad.status_code == 422 and "1|x" not in bad.text

        timeline = (await browser.get(f"/dashboard/cases/{late}", headers=HTML)).text
        assert '督办级别：<strong class="escalation">第 1 级' in timeline
        lead = re.search(rf'<tr class="unit-clock" data-unit="{UNIT}">(.*?)</tr>', timeline, re.S)
        co = re.search(rf'<tr class="unit-clock" data-unit="{CO_UNIT}">(.*?)</tr>', timeline, re.S)
        assert lead and "牵头" in lead[1] and "已超时" in lead[1]
        assert co and "协办" in co[1] and "办理中" in co[1]
        for words in (
            "受理投诉 XN2026-000001",
            f"交办：牵头单位 {UNIT}，时限 2026年9月1日 18:00；"
            f"协办单位 {CO_UNIT}（时限 2099年1月1日 00:00）",
            f"{UNIT} 办理时限已到（2026年9月1日 18:00）",
            "督办升级：第 1 级",
        ):
            assert words in timeline, words
        assert H not in timeline and "[姓名1]" not in timeline  # no pseudonym, no complaint text
        missing = await browser.get(f"/dashboard/cases/{new_case()}", headers=HTML)
        assert missing.status_code == 404

        gauges = ""
        while 'ledger_oversight_open_cases{service="oversight"} 3.0' not in gauges:
            assert time.monotonic() < deadline, gauges
            await asyncio.sleep(0.1)
            gauges = (await browser.get("/metrics")).text
        assert 'ledger_oversight_overdue_cases{service="oversight"} 1.0' in gauges
        assert 'ledger_oversight_escalated_cases{level="1",service="oversight"} 1.0' in gauges
