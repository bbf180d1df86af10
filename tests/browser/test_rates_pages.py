"""The rates pages in real headless Chromium, JavaScript off, against a real oversight process
on a real SQLite log: a supervisor signs in, reads the period's table, follows a figure's link
to its drill-down (the events behind numerator and denominator), then the unit's link to its
charts — SVG drawn by the browser, its Chinese in a CJK font, and the print view without the
navigation and the period form. Screenshots and a PDF are kept under
``var/test-artifacts/rates/``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.ledger.configuration import publish_defaults
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.browser.chromium import (
    CJK_FAMILIES,
    FAST,
    fonts_drawing,
    require_chromium,
    zh_context_without_javascript,
)
from tests.conftest import REPO
from tests.integration.test_report import PERIOD, write_world
from tests.integration.web_servers import ServiceProcess, start_service
from tests.samples import UNIT, H

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]
SHOTS = REPO / "var/test-artifacts/rates"


async def _seeded(var_dir: Path) -> None:
    settings = LedgerSettings(var_dir=var_dir)
    await write_world(settings)
    log = await open_log(settings)
    try:
        await publish_defaults(log, settings)
    finally:
        await log.close()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    asyncio.run(_seeded(tmp_path / "var"))
    env = {
        **FAST,
        "LEDGER_PROJECTOR_POLL_SECONDS": "0.1",
        "LEDGER_SCHEDULER_ENABLED": "false",
        "LEDGER_PERIOD_FIGURES_ENABLED": "false",
    }
    s = start_service("oversight", tmp_path / "var", env)
    try:
        yield s
    finally:
        s.stop()


def test_table_drill_down_and_charts_without_javascript(server: ServiceProcess) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/signin")
        page.fill("input[name=staff_id]", "demo-supervisor")
        page.fill("input[name=password]", server.demo_passwords()["demo-supervisor"])
        page.click("button[type=submit]")

        # The navigation's entry leads to this month's table (once the projector has caught up).
        deadline = time.monotonic() + 30
        while True:
            page.goto(server.url + "/")
            page.click("nav.site-nav >> text=考核统计")
            row = page.locator(f"tr.unit-rates[data-unit='{UNIT}']")
            if row.count() and "2/3" in row.locator("td[data-figure=reply]").inner_text():
                break
            assert time.monotonic() < deadline, page.content()[-2000:]
            time.sleep(0.3)
        assert page.url.endswith(f"/rates/{PERIOD}")
        assert page.locator("h1").inner_text().startswith("办理考核统计")
        assert row.locator("td[data-figure=reply]").inner_text() == "2/3 · 66.7%"
        assert row.locator("td[data-figure=resolution]").inner_text() == "1/3 · 33.3%"
        assert row.locator("td[data-figure=satisfaction]").inner_text() == "1/1 · 100.0%"
        assert page.locator("tr.unit-rates").count() == 2
        assert "本统计期尚未结束" in page.locator(".signed-state").inner_text()
        assert fonts_drawing(page, "h1") & CJK_FAMILIES
        page.screenshot(path=str(SHOTS / "period-table.png"), full_page=True)

        # A figure's link: the events behind the numerator and the denominator.
        row.locator("td[data-figure=overdue] a").click()
        assert page.url.endswith(f"/rates/{PERIOD}/units/{UNIT}/overdue")
        numerator = page.locator("table[data-list=numerator] tr.evidence")
        denominator = page.locator("table[data-list=denominator] tr.evidence")
        assert (numerator.count(), denominator.count()) == (2, 3)
        assert "交办" in denominator.first.inner_text()
        assert "2/3" in page.locator(".evidence-figure").inner_text()
        assert H not in page.content()
        page.screenshot(path=str(SHOTS / "drill-down.png"), full_page=True)

        # The unit's charts: four SVG line charts the browser lays out and draws.
        page.click(f"text={UNIT} 近十二个月的指标走势")
        charts = page.locator("svg.rate-chart")
        assert charts.count() == 4
        for i in range(4):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 80
        reply = charts.first
        assert reply.locator("circle.rate-point").count() == 1  # only this month has figures
        assert reply.locator("text.gap").count() == 11  # the other months are gaps
        assert page.locator(f"tr[data-month='{PERIOD}'] td[data-figure=reply]").inner_text() == (
            "2/3 · 66.7%"
        )
        page.screenshot(path=str(SHOTS / "unit-charts.png"), full_page=True)

        # Printable: the navigation and forms are gone, the charts stay.
        page.emulate_media(media="print")
        assert not page.locator("nav.site-nav").is_visible()
        assert page.locator("svg.rate-chart").first.is_visible()
        (SHOTS / "unit-charts.pdf").write_bytes(page.pdf(print_background=True))
