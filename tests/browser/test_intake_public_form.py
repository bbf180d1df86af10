"""Intake's public complaint form in real headless Chromium at a phone's width (390×844),
JavaScript off: the Chinese drawn by a CJK font, nothing wider than the screen, a complaint
filed anonymously and answered with its number and tracking code, then withdrawn with them;
and the clerk's queue and a complaint's detail showing it, also on a phone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.chromium import (
    CJK_FAMILIES,
    FAST,
    fonts_drawing,
    require_chromium,
    zh_context_without_javascript,
)
from tests.integration.intake_channels_world import NUMBER, made_ledger
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]
PHONE_SCREEN = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "var/test-artifacts/screenshots/intake"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    var = tmp_path / "var"
    _, log = asyncio.run(made_ledger(var))
    asyncio.run(log.close())
    s = start_service("intake", var, FAST)
    try:
        yield s
    finally:
        s.stop()


def fits_the_screen(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE_SCREEN["width"], f"{page.url} is {wide}px wide on a phone"


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_public_form_on_a_phone_files_and_withdraws_without_javascript(
    server: ServiceProcess,
) -> None:
    with zh_context_without_javascript() as context:
        page = context.new_page()
        page.set_viewport_size(PHONE_SCREEN)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto(server.url + "/public/complaint")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert fonts_drawing(page) & CJK_FAMILIES
        fits_the_screen(page)
        shoot(page, "public-complaint-phone")
        page.fill("#unit", "市城管局")
        page.fill("#text", "城管执法人员乱罚款，态度恶劣，多次反映没人管。")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "投诉已受理"
        number = page.locator(".case-no").inner_text()
        code = page.locator(".tracking-code").inner_text()
        assert re.fullmatch(NUMBER, number) and len(code) == 19
        assert "匿名" in page.content()
        fits_the_screen(page)
        shoot(page, "public-receipt-phone")

        page.goto(server.url + "/public/withdrawal")
        fits_the_screen(page)
        page.fill("#complaint_no", number)
        page.fill("#code", code)
        page.select_option("#reason", "no_longer_wanted")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "投诉已撤回"
        fits_the_screen(page)
        assert failed == []

        clerk = context.new_page()
        clerk.set_viewport_size(PHONE_SCREEN)
        clerk.goto(server.url + "/signin")
        clerk.fill("#staff_id", "demo-intake-clerk")
        clerk.fill("#password", server.demo_passwords()["demo-intake-clerk"])
        clerk.click("button[type=submit]")
        clerk.wait_for_load_state()
        clerk.goto(server.url + "/queue?view=all&state=withdrawn")
        assert number in clerk.content()
        fits_the_screen(clerk)
        shoot(clerk, "intake-queue-phone")
        clerk.click(f"text={number}")
        clerk.wait_for_load_state()
        assert "已撤回" in clerk.content() and "乱罚款" in clerk.content()
        fits_the_screen(clerk)
        shoot(clerk, "intake-complaint-phone")
