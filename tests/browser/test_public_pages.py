"""The public pages in real headless Chromium (Debian's ``chromium``): usable with JavaScript
off, the Chinese text drawn with a CJK font from the stylesheet's stack (not boxes), an
anonymous form filed once and answered with a receipt."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAST = {
    "LEDGER_PASSWORD_TIME_COST": "1",
    "LEDGER_PASSWORD_MEMORY_KIB": "64",
    "LEDGER_PASSWORD_PARALLELISM": "1",
}
# The families of the stylesheet's stack a Linux machine can have.
CJK_FAMILIES = {
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    if not Path(CHROMIUM).exists():
        message = "chromium not installed (tests/infra/install-system.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    s = start_service("publication", tmp_path / "var", FAST)
    try:
        yield s
    finally:
        s.stop()


def test_public_form_renders_in_a_cjk_font_and_files_without_javascript(
    server: ServiceProcess,
) -> None:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="ledger-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=ARGS,
                java_script_enabled=False,
                locale="zh-CN",
            )
            page = context.new_page()
            page.goto(server.url + "/public/demo-form")
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            assert page.locator("nav[aria-label='公众服务导航']").is_visible()

            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
            used = {f["familyName"] for f in fonts if f["glyphCount"] > 0}
            assert used & CJK_FAMILIES, used

            page.fill("#content", "窗口工作人员长时间不在岗")
            page.click("button[type=submit]")
            assert "/public/receipts/" in page.url
            assert page.locator("h1").inner_text() == "已收到"
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
