"""Appeals (申诉复核) on a real SQLite log with the oversight app running (its projector), over
HTTP, then the period figures worker and the real ``ledger report``.

A co-unit is deemed done (超时默认) and this month's figures are signed (version 1). The unit
appeals from its workbench: another unit, a supervisor, bad input and an event that is not
against it are refused (404 / 403 / 422 / 409 problem+json), nothing written; a second appeal
of the same event is refused. The supervisor sees it on ``/appeals``, a ruling without a
reason is refused, and it is upheld. The worker then signs version 2, naming version 1 and the
appeal; ``ledger report`` agrees with version 2 and with the live read model, while version 1
differs from the log by exactly the deemed done and the overdue item the appeal waived."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from services.oversight.app import SERVICE
from services.oversight.app import create as create_oversight
from services.oversight.period_figures import PeriodFiguresSettings, PeriodPublisher
from shared.calendar import SHANGHAI
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.period_replay import replay_period
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.reports.compare import differences
from shared.reports.periods import period
from shared.reports.signed import figures_of_event
from shared.web.command_path import ServiceWriter
from shared.web.demo_operators import demo_staff_id, demo_unit_body
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.integration.test_report import PERIOD, Ledger, cells
from tests.timer_logs import Histories
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    csrf_from,
    fast_settings,
    sign_in_page,
    token_for,
)

pytestmark = pytest.mark.timeout(300)
HTML = {"accept": "text/html"}
LEAD = "unit:lead-bureau"
OTHER_UNIT = "unit:other-bureau"
OTHER_STAFF, OTHER_PASSWORD = "other-h1", "另一单位-" + uuid.uuid4().hex
ELAPSED = "ledger.deadline.elapsed.v1"
DEEMED = "ledger.dispatch.deemed_done.v1"


def shanghai(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).astimezone(SHANGHAI).isoformat()


async def deemed_case(log: EventLog, settings: WebSettings, unit: str) -> tuple[str, str]:
    """A case led by another unit on which ``unit``, a co-unit, is deemed done: the case and
    the deemed done's event id."""
    h = await Histories(log, settings).start()
    case = f"case-{uuid.uuid4()}"
    past = shanghai(-120)
    await h.write(
        case,
        [
            "ledger.complaint.received.v1",
            "ledger.complaint.screened.v1",
            "ledger.dispatch.assigned.v1",
            ELAPSED,
            DEEMED,
        ],
        {
            "ledger.dispatch.assigned.v1": {
                "lead_unit": LEAD,
                "due_at": shanghai(3600),
                "co_units": [{"unit": unit, "due_at": past, "provisional": False}],
            },
            ELAPSED: {"deadline": "handling", "unit": unit, "due_at": past},
            DEEMED: {"unit": unit, "due_at": past, "cause": str(uuid.uuid4())},
        },
    )
    async for rec in log.read_stream(case):
        env = orjson.loads(rec.record)
        if env["type"] == DEEMED:
            return case, str(env["id"])
    raise AssertionError("the deemed done is not in the log")


WRITTEN_BY_APPEALS = ("ledger.appeal.", "ledger.penalty.revoked.")


async def written(log: EventLog, case: str) -> int:
    """The appeal events and penalty revocations on the case: what an appeal request could
    write (an upheld appeal against a penalty revokes it). Not every record:
    the proposal worker and the scheduler, running with the app, may append to the case
    meanwhile (the deemed done's penalty proposal), whenever their round comes."""
    return sum(
        [
            1
            async for rec in read_all(log)
            if rec.stream == case
            and orjson.loads(rec.record)["type"].startswith(WRITTEN_BY_APPEALS)
        ]
    )


def publisher(settings: WebSettings) -> PeriodPublisher:
    """The period figures worker, its clock an hour past this month's end."""
    later = period(PERIOD).end / 1_000_000 + 3600
    spec = SERVICE.deployment
    config = PeriodFiguresSettings(grace_seconds=60)
    return PeriodPublisher(settings, spec.name, spec.deployment, config, clock=lambda: later)


async def one_round(settings: WebSettings, worker: PeriodPublisher) -> list[str]:
    log = await open_log(settings)
    spec = SERVICE.deployment
    service = ServiceWriter(settings, spec.name, spec.deployment)
    try:
        return await worker.round(log, await service.writer())
    finally:
        await service.close()
        await log.close()


def test_an_upheld_appeal_is_a_corrected_figures_version_the_report_agrees_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fast_settings(
        tmp_path / "var", projector_poll_seconds=0.05, read_your_writes_seconds=10.0
    )
    asyncio.run(appealed_and_corrected(settings))
    # The real ``ledger report`` agrees with version 2 and with the live read model.
    ledger_cli = Ledger(monkeypatch, settings)
    projected = ledger_cli("project", "oversight")
    assert projected.exit_code == 0, projected.output
    report = ledger_cli("report", "--period", PERIOD)
    assert report.exit_code == 0, report.output
    assert "signed figures version 2 agrees" in report.output
    assert "oversight read model agrees" in report.output
    unit = demo_unit_body(settings)
    assert cells(report.output, unit)[0][1:] == ["0/1", "0/1", "0/1", "0/1", "0/1", "0/1", "0/0"]


async def appealed_and_corrected(settings: WebSettings) -> None:
    """Everything up to the corrected version (see the module docstring)."""
    unit = demo_unit_body(settings)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
        case, deemed = await deemed_case(log, settings, unit)
    finally:
        await log.close()

    worker = publisher(settings)
    assert PERIOD in await one_round(settings, worker)  # version 1, before any appeal

    app = create_oversight(settings)
    app.state.ledger.identity.add_operator(
        OTHER_STAFF, OTHER_UNIT, [Role.UNIT_HANDLER], OTHER_PASSWORD
    )
    log = await open_log(settings)
    async with (
        client(app) as api,
        client(app) as unit_page,
        client(app) as sup_page,
        app.router.lifespan_context(app),
    ):
        handler = demo_staff_id(Role.UNIT_HANDLER)
        mine = await token_for(api, app, handler)
        sup = await token_for(api, app, demo_staff_id(Role.SUPERVISOR))
        r = await api.post(
            "/auth/token", json={"staff_id": OTHER_STAFF, "password": OTHER_PASSWORD}
        )
        theirs = r.json()["access_token"]
        path = f"/workbench/cases/{case}/appeals"
        appealable = f"/workbench/cases/{case}/appealable"
        body = {"target": "deemed_done", "target_event": deemed, "reasons": "系统时钟故障"}

        # What the unit may appeal on the case.
        listed = await api.get(appealable, headers=bearer(mine))
        assert listed.status_code == 200, listed.text
        assert [(a["target"], a["target_event"], a["status"]) for a in listed.json()] == [
            ("deemed_done", deemed, None)
        ]
        before = await written(log, case)
        # Refused, nothing written: another unit (404, as for no case), a supervisor (403),
        # bad input (422), an event that is not the unit's to appeal (409).
        r = await api.post(path, json=body, headers=bearer(theirs, "a-1"))
        assert_problem(r, 404, "not-found")
        assert_problem(await api.get(appealable, headers=bearer(theirs)), 404, "not-found")
        r = await api.post(path, json=body, headers=bearer(sup, "a-2"))
        assert_problem(r, 403, "forbidden")
        r = await api.post(path, json={**body, "reasons": "  "}, headers=bearer(mine, "a-3"))
        assert_problem(r, 422, "validation")
        r = await api.post(path, json={**body, "target": "penalty"}, headers=bearer(mine, "a-4"))
        assert assert_problem(r, 409, "conflict")["reason"] == "no_such_target"
        assert await written(log, case) == before

        # The unit appeals from its workbench's page for the case.
        await sign_in_page(unit_page, app, handler)
        form = await unit_page.get(f"/workbench/{case}/appeals", headers=HTML)
        assert form.status_code == 200 and "超时默认" in form.text and deemed in form.text
        fields = {
            "csrf_token": csrf_from(form.text),
            "form_key": str(uuid.uuid4()),
            "target": "deemed_done",
            "target_event": deemed,
            "reasons": "本单位已按时报送，系统时钟故障",
        }
        filed = await unit_page.post(f"/workbench/{case}/appeals/filing", data=fields, headers=HTML)
        assert filed.status_code == 303, filed.text
        shown = await unit_page.get(filed.headers["location"], headers=HTML)
        assert "待复核" in shown.text and "提出申诉" not in shown.text
        r = await api.post(path, json=body, headers=bearer(mine, "a-5"))
        assert assert_problem(r, 409, "conflict")["reason"] == "already_appealed"

        # The supervisor: the API lists it; the unit may not rule; the page rules.
        await sign_in_page(sup_page, app, demo_staff_id(Role.SUPERVISOR))
        position = filed.headers["location"].split("?", 1)[1]  # after=…: the filing's
        register = await api.get(f"/appeals/awaiting?{position}", headers=bearer(sup))
        (pending,) = register.json()
        assert pending["target_event"] == deemed and pending["unit"] == unit
        assert_problem(await api.get("/appeals/awaiting", headers=bearer(mine)), 403, "forbidden")
        ruling = f"/cases/{case}/appeals/{pending['appeal_id']}/ruling"
        upheld = {"outcome": "upheld", "reason": "经核实，超时系系统时钟故障所致"}
        r = await api.post(ruling, json=upheld, headers=bearer(mine, "r-1"))
        assert_problem(r, 403, "forbidden")
        page = await sup_page.get("/appeals", headers=HTML)
        assert page.status_code == 200 and "待复核的申诉（1 件）" in page.text
        assert "本单位已按时报送" in page.text
        action = f"/appeals/{case}/{pending['appeal_id']}/ruling"
        no_reason = {"csrf_token": csrf_from(page.text), "form_key": str(uuid.uuid4())}
        before = await written(log, case)
        r = await sup_page.post(action, data={**no_reason, "outcome": "upheld"}, headers=HTML)
        assert r.status_code == 422 and "复核理由" in r.text  # the problem, as a page
        fields = {**no_reason, "form_key": str(uuid.uuid4()), **upheld}
        r = await sup_page.post(action, data=fields, headers=HTML)
        assert r.status_code == 303, r.text
        assert await written(log, case) == before + 1  # the ruling alone (no penalty)
        page = await sup_page.get(r.headers["location"], headers=HTML)
        assert "待复核的申诉（0 件）" in page.text and "申诉成立" in page.text
        again = await api.post(ruling, json=upheld, headers=bearer(sup, "r-2"))
        assert assert_problem(again, 409, "conflict")["reason"] == "no_such_appeal"
        ruled = await api.get("/appeals/ruled", headers=bearer(sup))
        assert [a["status"] for a in ruled.json()] == ["upheld"]
        assert ruled.json()[0]["ruled_by"].endswith("/" + demo_staff_id(Role.SUPERVISOR))
        assert await app.state.ledger.served.wait_for(await log.head(), 10.0)
    await log.close()

    # The worker corrects the period the appeal touched: version 2, replacing version 1.
    assert PERIOD in await one_round(settings, worker)
    assert await one_round(settings, worker) == []  # once
    log = await open_log(settings)
    try:
        replay = await replay_period(log, keystore.genesis_public(settings), period(PERIOD))
    finally:
        await log.close()
    first, second = replay.signed
    assert (second["version"], second["replaces"]) == (2, 1)
    assert pending["appeal_id"] in second["reason"]
    ours = replay.fold.figures()
    assert differences(ours, figures_of_event(second)) == []
    changed = {
        (d.unit, d.figure, d.ours, d.theirs) for d in differences(ours, figures_of_event(first))
    }
    assert changed == {(unit, "deemed_done", (0, 1), (1, 1)), (unit, "overdue", (0, 1), (1, 1))}
