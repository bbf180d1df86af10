"""Oversight's period figures publisher on a real log: once a period has ended it signs
version 1 of every unit's figures, exactly once, and they are what the log gives."""

from __future__ import annotations

from pathlib import Path

from services.oversight.app import SERVICE
from services.oversight.period_figures import PeriodFiguresSettings, PeriodPublisher
from shared.ledger import keystore
from shared.ledger.period_replay import replay_period
from shared.log.factory import open_log
from shared.reports.periods import period
from shared.reports.signed import figures_of_event
from shared.web.command_path import ServiceWriter
from tests.conftest import settings_for
from tests.integration.test_report import PERIOD, write_world


async def test_each_ended_period_is_signed_once(tmp_path: Path) -> None:
    settings = settings_for("sqlite", 3, tmp_path / "var")
    await write_world(settings)
    end = period(PERIOD).end
    later = end / 1_000_000 + 3600  # an hour past the period's end
    spec = SERVICE.deployment
    publisher = PeriodPublisher(
        settings,
        spec.name,
        spec.deployment,
        PeriodFiguresSettings(grace_seconds=60),
        clock=lambda: later,
    )
    log = await open_log(settings)
    service = ServiceWriter(settings, spec.name, spec.deployment)
    try:
        writer = await service.writer()
        published = await publisher.round(log, writer)
        assert PERIOD in published  # the month (and its quarter, when it ends one)
        assert all(period(p).end <= end for p in published)
        assert await publisher.round(log, writer) == []  # once

        replay = await replay_period(log, keystore.genesis_public(settings), period(PERIOD))
        assert [s["version"] for s in replay.signed] == [1]
        assert replay.latest_signed is not None
        signed = figures_of_event(replay.latest_signed)
        assert signed == replay.fold.figures()
        assert sum(d for row in signed.values() for _, d in [row["reply"]]) == 4  # 3 + 1 items
    finally:
        await service.close()
        await log.close()
