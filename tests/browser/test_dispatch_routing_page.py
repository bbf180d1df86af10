"""The page of routing and time limits in force (转办规则与办理时限) in real headless Chromium,
JavaScript off: a dispatch officer sees the versions in force, looks a case up (which unit
would it go to), pages and filters the catalogue, and reads the time limits and the versions'
history; anyone else is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import seeded_service, zh_context_without_javascript
from tests.integration.web_servers import ServiceProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    with seeded_service("dispatch", tmp_path / "var") as s:
        yield s


def sign_in(page: object, server: ServiceProcess, staff_id: str) -> None:
    page.goto(server.url + "/signin")  # type: ignore[attr-defined]
    page.fill("input[name=staff_id]", staff_id)  # type: ignore[attr-defined]
    page.fill("input[name=password]", server.demo_passwords()[staff_id])  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_the_routing_page_shows_what_is_in_force_and_looks_a_case_up(
    server: ServiceProcess,
) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/routing")
        assert "/signin" in page.url  # signed-in officers only
        sign_in(page, server, "demo-dispatch-officer")
        page.goto(server.url + "/routing")
        assert page.locator("h1").inner_text() == "转办规则与办理时限"
        assert page.locator("#routing-version").inner_text() == "第 1 版（351 条）"
        assert page.locator("#limits-version").inner_text() == "第 1 版"
        assert "chinesecalendar-1.11.0" in page.locator("#calendar-version").inner_text()
        assert page.locator("#routing-entries tbody tr").count() == 50  # one page of 351

        # The lookup: a 不动产登记 complaint about the city's 政务服务中心.
        page.fill("input[name=category]", "不动产登记")
        page.fill("input[name=unit]", "unit:government-services")
        page.click("form.lookup button[type=submit]")
        assert page.locator("#lookup-entry").inner_text() == "R0005"
        assert "市自然资源局" in page.locator("#lookup-lead").inner_text()
        assert "市政务服务数据管理局" in page.locator("#lookup-co").inner_text()
        assert page.locator("#lookup-limit").inner_text() == "7 个工作日（一般）"

        # Filter and page the catalogue.
        page.fill("form.filter input[name=q]", "劳动欠薪")
        page.click("form.filter button[type=submit]")
        rows = page.locator("#routing-entries tbody tr")
        assert rows.count() == 6 and "劳动欠薪" in rows.nth(0).inner_text()
        page.goto(server.url + "/routing?p=8")
        assert page.locator("#routing-entries tbody tr").count() == 1  # 351 = 7 × 50 + 1
        assert "任意类别" in page.locator("#routing-entries tbody").inner_text()

        # The time limits, by urgency and by category, and the versions' history.
        assert "2 小时" in page.locator("#limits").inner_text()
        assert "劳动欠薪" in page.locator("#limits-by-category").inner_text()
        versions = page.locator("#versions").inner_text()
        assert versions.count("第 1 版（现行）") == 3
        assert "efficiency-office/config-defaults" in versions


def test_the_routing_page_refuses_other_roles(server: ServiceProcess) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        sign_in(page, server, "demo-intake-clerk")
        answer = page.goto(server.url + "/routing")
        assert answer is not None and answer.status == 403
