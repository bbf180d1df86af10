"""The configuration page in real headless Chromium, JavaScript off: an administrator of the
deployment that owns the unit directory sees the version in force (who, log time) and its
history, edits the content, previews the diff against the version in force, publishes, and sees
the new version in force."""

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


def test_the_config_page_shows_the_version_in_force_its_history_and_a_preview_diff(
    server: ServiceProcess,
) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/admin/config")
        assert "/signin" in page.url  # signed-in administrators only
        page.fill("input[name=staff_id]", "demo-admin")
        page.fill("input[name=password]", server.demo_passwords()["demo-admin"])
        page.click("button[type=submit]")
        page.goto(server.url + "/admin/config")
        assert page.locator("h1").inner_text() == "配置管理"
        page.click("text=被监督单位名录")

        assert page.locator("#version-in-force").inner_text() == "第 1 版"
        assert "efficiency-office/config-defaults" in page.locator("dl").inner_text()
        assert "北京时间" in page.locator("dl").inner_text()
        assert page.locator("#history tbody tr").count() == 1

        content = page.locator("#content").input_value()
        assert "市卫生健康局" in content
        page.fill("#content", content.replace("市卫生健康局", "市卫生健康委员会"))
        page.click("text=预览变更")
        summary = page.locator("#diff-summary").inner_text()
        assert "新增 1 行，删除 1 行" in summary and "第 2 版" in summary
        assert "市卫生健康局" in page.locator("#diff tr.diff-removed").inner_text()
        assert "市卫生健康委员会" in page.locator("#diff tr.diff-added").inner_text()

        page.click("text=确认发布第 2 版")
        assert page.url.endswith("/admin/config/unit_directory?published=2")
        assert page.locator("#version-in-force").inner_text() == "第 2 版"
        assert "efficiency-office/demo-admin" in page.locator("dl").inner_text()
        rows = page.locator("#history tbody tr")
        assert rows.count() == 2
        assert "第 2 版（现行）" in rows.nth(0).inner_text()
        assert "第 1 版" in rows.nth(1).inner_text()
