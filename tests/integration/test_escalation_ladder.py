"""The escalation ladder on a real SQLite log, with the oversight app (its scheduler, projector
and pages) running: thresholds published as configuration (hours, so the steps come within
seconds), due times fixed by the fixture so that each step's threshold falls a few seconds
after the start. Each step — reminder, 督办单, 挂牌督办 — lands within one scheduler poll
interval after its threshold by the log's own clock, appears once with its notice naming the
thresholds version, and a restarted scheduler adds nothing. The 督办单 and 挂牌督办 print as
documents; a unit reads only its own."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest

from services.oversight.app import SERVICE
from services.oversight.app import create as create_oversight
from services.oversight.notice import ESCALATED, REMINDED
from services.oversight.scheduler import Scheduler, SchedulerSettings
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import SOURCE_DEFAULTS_DIR, publish_defaults
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.rules.act import micros
from shared.settings import LedgerSettings
from shared.web import Role
from shared.web.demo_operators import demo_staff_id
from tests.samples import new_case
from tests.timer_logs import ASSIGN, Histories, assignment, in_seconds, judged, of_type
from tests.web_fixtures import client, fast_settings, sign_in_page

POLL = 1.0  # s: the scheduler's poll interval (its default)
HOUR = 3600
THRESHOLDS = {
    "remind_before": {"amount": 1, "unit": "hours"},
    "list_after": {"amount": 1, "unit": "hours"},
}
HTML = {"accept": "text/html"}
UNIT_NAME = "市卫生健康局"  # the unit directory's name of the samples' unit
COMPLAINT_NO = "XN2026-000001"  # the samples' complaint number


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)


def configuration(tmp_path: Path) -> Path:
    """The shipped defaults, with the test's thresholds."""
    folder = tmp_path / "config"
    shutil.copytree(SOURCE_DEFAULTS_DIR, folder)
    (folder / "escalation_thresholds.json").write_bytes(orjson.dumps(THRESHOLDS))
    return folder


async def steps(log: EventLog, settings: LedgerSettings) -> tuple[list[tuple[int, dict]], int]:
    """(log time, event) of every accepted ladder step; how many ladder records were refused."""
    records = await judged(log, settings)
    out, refused = [], 0
    for t in (REMINDED, ESCALATED):
        accepted, n = of_type(records, t)
        out += [(r.appended_at, e) for r, e in accepted]
        refused += n
    return out, refused


def step_name(e: dict) -> str:
    return str(e["data"].get("step") or "reminder")


async def test_each_ladder_step_once_within_a_poll_of_its_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_SCHEDULER_POLL_SECONDS", str(POLL))
    monkeypatch.setenv("LEDGER_SCHEDULER_RETRY_SECONDS", "0.5")
    settings = fast_settings(tmp_path / "var", log_partitions=3, projector_poll_seconds=0.1)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        published = await publish_defaults(log, settings, directory=configuration(tmp_path))
        assert ("escalation_thresholds", "1") in published
        h = await Histories(log, settings).start()
        app = create_oversight(settings)
        async with client(app) as browser, app.router.lifespan_context(app):
            # Due times fixed so that each case's step under test comes a few seconds on.
            dues = {
                "reminder": in_seconds(HOUR + 3),  # reminded 1 h before: in 3 s
                "order": in_seconds(4),  # 督办单 at the due time: in 4 s
                "listed": in_seconds(-HOUR + 5),  # 挂牌督办 1 h after the due time: in 5 s
            }
            cases = {name: new_case() for name in dues}
            for name, due in dues.items():
                await h.write(cases[name], ASSIGN, {"ledger.dispatch.assigned.v1": assignment(due)})

            async def all_taken() -> bool:
                taken, _ = await steps(log, settings)
                have = {(e["subject"], step_name(e)) for _, e in taken}
                return all((cases[n], n) in have for n in dues)

            await eventually(all_taken)
            await asyncio.sleep(POLL)  # time for a wrong second step to show
            taken, refused = await steps(log, settings)

            # Each step under test: within one poll interval after its threshold.
            offsets = {"reminder": -HOUR, "order": 0, "listed": HOUR}
            for name, due in dues.items():
                [(at, e)] = [
                    (at, e)
                    for at, e in taken
                    if e["subject"] == cases[name] and step_name(e) == name
                ]
                threshold = micros(e["data"]["threshold_at"])
                assert threshold == micros(due) + offsets[name] * 1_000_000
                assert threshold <= at <= threshold + int(POLL * 1_000_000), (name, at - threshold)
            # Each step once per deadline, each with its notice and the thresholds version.
            counts = Counter((e["subject"], step_name(e)) for _, e in taken)
            assert set(counts.values()) == {1} and refused == 0
            assert counts == Counter(
                {
                    (cases["reminder"], "reminder"): 1,
                    (cases["order"], "reminder"): 1,  # assigned after its threshold: at once
                    (cases["order"], "order"): 1,
                    (cases["listed"], "order"): 1,  # due before it was assigned: at once
                    (cases["listed"], "listed"): 1,
                }
            )
            for _, e in taken:
                d = e["data"]
                assert d["thresholds"] == "1" and UNIT_NAME in d["notice"]
                assert COMPLAINT_NO in d["notice"] and e["subject"] in d["notice"]
            [listed] = [e for _, e in taken if step_name(e) == "listed"]
            [reminder] = [e for _, e in taken if e["subject"] == cases["reminder"]]

            # The printable documents: the supervisor's, and a unit never reads another's.
            await sign_in_page(browser, app, demo_staff_id(Role.SUPERVISOR))
            listed_url = f"/cases/{cases['listed']}/notices/{listed['id']}/print"

            async def projected() -> bool:
                return (await browser.get(listed_url, headers=HTML)).status_code == 200

            await eventually(projected)
            page = await browser.get(listed_url, headers=HTML)
            text = page.text
            assert '<html lang="zh-CN">' in text and "/static/ledger.css" in text
            assert "挂牌督办通知书" in text and UNIT_NAME in text and COMPLAINT_NO in text
            assert 'class="minutes-sheet ladder-notice"' in text and "第 2 级" in text
            # The due time as a page shows it (Asia/Shanghai).
            shown = listed["data"]["due_at"][:10].split("-")
            assert f"{int(shown[0])}年{int(shown[1])}月{int(shown[2])}日" in text
            listing = await browser.get(f"/cases/{cases['listed']}/notices", headers=HTML)
            assert listing.status_code == 200 and "督办单" in listing.text
            assert listed_url in listing.text
            not_printable = f"/cases/{cases['reminder']}/notices/{reminder['id']}/print"
            assert (await browser.get(not_printable, headers=HTML)).status_code == 404
            css = (await browser.get("/static/ledger.css")).text
            assert "size: A4" in css
        async with client(app) as unit, app.router.lifespan_context(app):
            await sign_in_page(unit, app, demo_staff_id(Role.UNIT_HANDLER))  # another unit
            assert (await unit.get(listed_url, headers=HTML)).status_code == 404
            assert (
                await unit.get(f"/cases/{cases['listed']}/notices", headers=HTML)
            ).status_code == 404

        # A restart rebuilds the pending steps from the log and adds none.
        before = len(await judged(log, settings))
        spec = SERVICE.deployment
        again = Scheduler(settings, spec.name, spec.deployment, SchedulerSettings(poll_seconds=0.1))
        stop = asyncio.Event()
        task = asyncio.create_task(again.run(stop))
        try:
            await asyncio.wait_for(again.caught_up.wait(), 20)
            await asyncio.sleep(1.0)
            # Still to come, an hour on: the reminder case's deadline (its 督办单 follows it)
            # and the 督办单 case's 挂牌督办; nothing else.
            assert {(d.stream, d.kind) for d in again.pending} == {(cases["reminder"], "handling")}
            assert {(s.stream, s.step) for s in again.steps} == {(cases["order"], "listed")}
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
        assert len(await judged(log, settings)) == before
    finally:
        await log.close()
