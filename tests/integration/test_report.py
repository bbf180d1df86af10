"""``ledger report`` on a real log (embedded SQLite) and a real read store (SQLite, FerretDB):
the figures from the log alone agree with oversight's live read model (built by ``ledger
project oversight``) and with the signed period figures; a read model missing one event, and
signed figures the log has moved past, are named by unit and figure; a correction is the next
version and agrees again."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.oversight.rates_projection import RATE_ITEMS
from shared.cli import main as cli_main
from shared.cli import report as cli_report
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.readside.copies import StoreSettings
from shared.readside.read_model import ReadModel
from shared.reports.periods import month_of
from shared.settings import LedgerSettings
from tests.conftest import require_env, settings_for
from tests.samples import CO_UNIT, UNIT
from tests.timer_logs import OPENED, Histories, in_seconds

ASSIGNED = "ledger.dispatch.assigned.v1"
PERIOD = month_of(int(time.time() * 1_000_000))


def assigned(co: bool) -> dict[str, object]:
    due = in_seconds(60)
    return {
        "lead_unit": UNIT,
        "due_at": due,
        "co_units": [{"unit": CO_UNIT, "due_at": due, "provisional": False}] if co else [],
    }


async def write_world(settings: LedgerSettings) -> list[str]:
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        h = await Histories(log, settings).start()
        cases = [f"case-{uuid.uuid4()}" for _ in range(3)]
        await h.write(
            cases[0],
            [
                *OPENED,
                ASSIGNED,
                "ledger.handling.acknowledged.v1",
                "ledger.handling.replied.v1",
                "ledger.handling.resolution_claimed.v1",
                "ledger.complainant.confirmed.v1",
                "ledger.handling.closed.v1",
                "ledger.complainant.satisfaction_rated.v1",
            ],
            {ASSIGNED: assigned(co=True)},
        )
        await h.write(
            cases[1],
            [*OPENED, ASSIGNED, "ledger.handling.replied.v1"],
            {ASSIGNED: assigned(co=False)},
        )
        await h.write(cases[2], [*OPENED, ASSIGNED], {ASSIGNED: assigned(co=False)})
        return cases
    finally:
        await log.close()


async def extend_out_of_period(
    settings: LedgerSettings, case: str, h: Histories | None = None
) -> None:
    log = await open_log(settings)
    try:
        h = await Histories(log, settings).start()
        from shared.log.port import read_all

        async for rec in read_all(log):  # chain on the case's head
            if rec.stream == case:
                import hashlib

                h.heads[case] = hashlib.sha256(rec.record).hexdigest()
        await h.write(
            case,
            ["ledger.handling.extension_requested.v1", "ledger.handling.extension_ruled.v1"],
            {"ledger.handling.extension_ruled.v1": {"due_at": "2099-06-01T10:00:00+08:00"}},
        )
    finally:
        await log.close()


async def drop_the_reply(case: str) -> None:
    """The read model as if the projector had missed the lead's reply on ``case``."""
    rm = ReadModel(StoreSettings(), "oversight")
    try:
        store = await rm.store()
        doc = await store.get(RATE_ITEMS, case)
        assert doc is not None and doc["items"][0]["reply"] is not None
        doc["items"][0]["reply"] = None
        await store.upsert(
            RATE_ITEMS, case, {k: v for k, v in doc.items() if k not in ("_id", "_pos")}
        )
    finally:
        await rm.close()


def cells(output: str, unit: str) -> list[list[str]]:
    """The table rows naming ``unit``, cell by cell."""
    return [
        [c.strip() for c in line.split("│") if c.strip()]
        for line in output.splitlines()
        if f"│ {unit} " in line
    ]


class Ledger:
    """The real ``ledger`` command, in this process (its consoles wide enough for the tables)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, settings: LedgerSettings) -> None:
        monkeypatch.setenv("LEDGER_VAR_DIR", str(settings.var_dir))
        monkeypatch.setenv("LEDGER_LOG_BACKEND", settings.log_backend)
        monkeypatch.setenv("LEDGER_LOG_PARTITIONS", str(settings.log_partitions))
        for console in (cli_main.console, cli_report.console):
            monkeypatch.setattr(console, "_width", 200)
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(cli_main.app, list(args))


@pytest.mark.parametrize("store_kind", ["sqlite", "mongo"])
def test_report_names_every_difference(
    store_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("sqlite", 3, tmp_path / "var")
    ledger_cli = Ledger(monkeypatch, settings)
    if store_kind == "mongo":
        url = require_env("LEDGER_TEST_MONGO_URL", "mongo")
        prefix = f"rep{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("LEDGER_STORE_URL", url)
        monkeypatch.setenv("LEDGER_STORE_DATABASE_PREFIX", prefix)
    cases = asyncio.run(write_world(settings))

    projected = ledger_cli("project", "oversight")
    assert projected.exit_code == 0, projected.output
    first = ledger_cli(
        "correct-figures", "--period", PERIOD, "--reason", "首次发布", "--staff", "V001"
    )
    assert first.exit_code == 0, first.output
    assert f"version 1 of {PERIOD} signed" in first.output

    agreed = ledger_cli("report", "--period", PERIOD)
    assert agreed.exit_code == 0, agreed.output
    assert "oversight read model agrees" in agreed.output
    assert "signed figures version 1 agrees" in agreed.output
    # The figures worked out by hand: the lead has cases 0, 1 and 2 (2 moves out below), the
    # co-unit case 0 (resolved with the case, never replied, no claim by its due time).
    assert cells(agreed.output, UNIT)[0][1:] == ["0/3", "0/3", "2/3", "0/3", "2/3", "1/3", "1/1"]
    assert cells(agreed.output, CO_UNIT)[0][1:] == ["0/1", "0/1", "1/1", "0/1", "0/1", "1/1", "1/1"]

    # The live read model misses the lead's reply on case 1: that unit and figure are named.
    asyncio.run(drop_the_reply(cases[1]))
    dropped = ledger_cli("report", "--period", PERIOD)
    assert dropped.exit_code == 1, dropped.output
    assert "oversight read model differs" in dropped.output
    assert [UNIT, "reply", "2/3", "1/3"] in cells(dropped.output, UNIT)
    assert "signed figures version 1 agrees" in dropped.output

    # The log moves on (case 2's due time leaves the period): the signed figures now differ,
    # by unit and figure; a correction is version 2, naming version 1, and agrees.
    asyncio.run(extend_out_of_period(settings, cases[2]))
    moved = ledger_cli("report", "--period", PERIOD, "--no-live")
    assert moved.exit_code == 1
    assert "signed figures version 1 differs" in moved.output
    assert [UNIT, "overdue", "1/2", "2/3"] in cells(moved.output, UNIT)
    second = ledger_cli(
        "correct-figures", "--period", PERIOD, "--reason", "延期获准", "--staff", "V001"
    )
    assert f"version 2 of {PERIOD} signed" in second.output, second.output
    again = ledger_cli("report", "--period", PERIOD, "--no-live")
    assert again.exit_code == 0, again.output
    assert "signed figures version 2 agrees" in again.output
