"""Intake's e-mail and import-run pages in real headless Chromium, JavaScript off: a clerk
uploads an ``.eml`` on the e-mail page and gets the receipt (once, however often the same
message is uploaded); after ``ledger import complaints`` has run on a file with bad rows, the
import-runs page lists the run and its page shows the progress and the error report — row
numbers and kinds in Chinese, never a row's values."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import orjson
import pytest

from shared.ledger.backup import BackupSettings
from tests.browser.chromium import FAST, require_chromium, zh_context_without_javascript
from tests.conftest import REPO, ledger_cli
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

CLERK = "demo-intake-clerk"
UNIT = "unit:housing-bureau"
SECRET = "不应显示的行内容"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    var = tmp_path / "var"
    init = ledger_cli(BackupSettings(var_dir=var, log_partitions=3), "init")
    assert init.returncode == 0, init.stdout + init.stderr
    s = start_service("intake", var, {**FAST, "LEDGER_LOG_PARTITIONS": "3"})
    try:
        yield s
    finally:
        s.stop()


def test_eml_upload_page_and_import_run_pages(server: ServiceProcess, tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "李四 <li.si@example.net>"
    msg["Subject"] = "审批拖延"
    msg["Message-ID"] = "<page-1@example.net>"
    msg.set_content("营业执照变更三个月未办结。")
    eml = tmp_path / "complaint.eml"
    eml.write_bytes(msg.as_bytes())

    export = tmp_path / "hotline.jsonl"
    good = {"channel": "hotline_12345", "unit": UNIT, "category": "不作为", "text": "无人办理。"}
    export.write_bytes(
        b"\n".join(
            [
                orjson.dumps(good),
                orjson.dumps({**good, "unit": ""}),
                b"{" + SECRET.encode(),
                orjson.dumps({**good, "text": "第二件。"}),
            ]
        )
    )
    env = {
        **os.environ,
        "LEDGER_IMPORT_URL": server.url,
        "LEDGER_IMPORT_STAFF_ID": CLERK,
        "LEDGER_IMPORT_PASSWORD": server.demo_passwords()[CLERK],
    }
    out = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "import", "complaints", str(export)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr

    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/mail")
        assert "/signin" in page.url  # clerks only
        page.fill("input[name=staff_id]", CLERK)
        page.fill("input[name=password]", server.demo_passwords()[CLERK])
        page.click("button[type=submit]")

        numbers = []
        for _ in range(2):
            page.goto(server.url + "/mail")
            assert page.locator("h1").inner_text() == "邮件受理"
            page.set_input_files("input[name=message]", str(eml))
            page.fill("input[name=unit]", UNIT)
            page.click("button.primary")
            assert page.locator("h1").inner_text() == "已受理"
            numbers.append(page.locator(".case-no").inner_text())
        assert numbers[0] == numbers[1] and numbers[0].startswith("TS")

        page.goto(server.url + "/import-runs")
        assert page.locator("h1").inner_text() == "导入批次"
        row = page.locator("table.import-runs tbody tr").first
        text = row.inner_text()
        assert "hotline.jsonl" in text and "JSON Lines" in text and "已完成" in text
        row.locator("a").click()
        assert page.locator("h1").inner_text() == "导入批次：hotline.jsonl"
        assert page.locator("td.filed").inner_text() == "2 件"
        assert "2 行" in page.locator("td.errors").inner_text()
        report = page.locator("table.error-report tbody tr")
        assert report.count() == 2
        assert report.nth(0).inner_text().split("\t") == ["2", "缺少必填字段", "unit"]
        assert report.nth(1).inner_text().split("\t")[:2] == ["3", "无法读取（格式错误）"]
        assert SECRET not in page.content()
