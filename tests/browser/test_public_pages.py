"""The public pages in real headless Chromium (Debian's ``chromium``): usable with JavaScript
off, the Chinese text drawn with a CJK font from the stylesheet's stack (not boxes), an
anonymous form filed once and answered with a receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import (
    CJK_FAMILIES,
    FAST,
    fonts_drawing,
    require_chromium,
    zh_context_without_javascript,
)
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    s = start_service("publication", tmp_path / "var", FAST)
    try:
        yield s
    finally:
        s.stop()


def test_public_form_renders_in_a_cjk_font_and_files_without_javascript(
    server: ServiceProcess,
) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.goto(server.url + "/public/demo-form")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator("nav[aria-label='公众服务导航']").is_visible()

        used = fonts_drawing(page)
        assert used & CJK_FAMILIES, used

        page.fill("#content", "窗口工作人员长时间不在岗")
        page.click("button[type=submit]")
        assert "/public/receipts/" in page.url
        assert page.locator("h1").inner_text() == "已收到"
