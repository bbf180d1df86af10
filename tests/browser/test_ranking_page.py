"""The ranking page in real headless Chromium, JavaScript off, on a fresh deployment (``ledger
init`` and the shipped defaults, no cases yet): a supervisor follows 效能考核 in the
navigation to the current month's provisional ranking, made by version 1 of the weights, with
every weight shown and no unit ranked; a malformed period is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.reports.periods import month_of
from tests.browser.chromium import seeded_service, zh_context_without_javascript
from tests.integration.web_servers import ServiceProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    with seeded_service("oversight", tmp_path / "var") as s:
        yield s


def test_a_supervisor_reaches_the_current_months_ranking_from_the_navigation(
    server: ServiceProcess,
) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/ranking")
        assert "/signin" in page.url  # signed-in supervisors only
        page.fill("input[name=staff_id]", "demo-supervisor")
        page.fill("input[name=password]", server.demo_passwords()["demo-supervisor"])
        page.click("button[type=submit]")
        page.goto(server.url + "/")
        page.click("nav >> text=效能考核")
        month = month_of(int(time.time() * 1_000_000))
        assert page.url.endswith(f"/ranking/{month}")  # no month has ended under the weights
        assert page.locator("h1").inner_text() == f"效能考核排名（{month}）"
        assert page.locator(".ranking-config").get_attribute("data-version") == "1"
        assert "config-defaults" in page.locator(".ranking-config").inner_text()
        assert page.locator(".ranking-figures").get_attribute("data-source") == "live"
        assert page.locator(".ranking-weights td[data-figure=resolution]").inner_text() == "25"
        assert page.locator(".min-cases").inner_text() == "5"
        assert "本期没有达到最少案件数的单位" in page.locator("table.ranking").inner_text()
        page.click("a[rel=prev]")
        assert "尚未发布效能考核权重" in page.locator("body").inner_text()
        response = page.goto(server.url + "/ranking/2026-13")
        assert response is not None and response.status == 422
