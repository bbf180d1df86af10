"""The operators' admin page in real headless Chromium (Debian's ``chromium``), JavaScript off:
an administrator signs in, sees every operator with status and roles, disables one through the
row's form; the operator's token stops at once and the record of changes shows who did it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.chromium import FAST, require_chromium, zh_context_without_javascript
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    s = start_service("dispatch", tmp_path / "var", FAST)
    try:
        yield s
    finally:
        s.stop()


def test_an_administrator_lists_and_disables_an_operator_on_the_page(
    server: ServiceProcess,
) -> None:
    passwords = server.demo_passwords()
    token = httpx.post(
        server.url + "/auth/token",
        json={"staff_id": "demo-auditor", "password": passwords["demo-auditor"]},
    ).json()["access_token"]
    me = server.url + "/auth/me"
    assert httpx.get(me, headers={"Authorization": f"Bearer {token}"}).status_code == 200

    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/operators")
        assert "/signin" in page.url
        page.fill("#staff_id", "demo-admin")
        page.fill("#password", passwords["demo-admin"])
        page.click("button[type=submit]")
        assert page.url.endswith("/operators")
        assert page.locator("h1").inner_text() == "操作员管理"
        assert page.locator("nav a[href='/operators']").inner_text() == "操作员管理"

        rows = page.locator("table.operators tbody tr")
        assert rows.count() == len(passwords)
        auditor = page.locator("tr[data-staff-id='demo-auditor']")
        assert auditor.locator(".status-cell").inner_text().strip() == "启用"
        assert auditor.locator(".roles").inner_text() == "审计员"

        auditor.locator("button[value='disable']").click()
        assert page.url.endswith("/operators")
        auditor = page.locator("tr[data-staff-id='demo-auditor']")
        assert auditor.locator(".status-cell").inner_text().strip() == "已停用"
        assert auditor.locator("button[value='enable']").is_visible()
        latest = page.locator("table.changes tbody tr").first
        cells = latest.locator("td").all_inner_texts()
        assert cells[2:5] == ["demo-admin", "demo-auditor", "停用"]
        assert "停用：否 → 是" in cells[5]

    refused = httpx.get(me, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
