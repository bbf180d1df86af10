"""Debian's Chromium for the page tests: where it is, how it is started, the CJK fonts a page
may be drawn in, and a Chinese-locale context with JavaScript off (what the public and operator
pages must work without). A test that finds no Chromium skips it locally and fails in CI."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.conftest import IN_CI
from tests.integration.web_servers import ServiceProcess, start_service

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

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


def require_chromium() -> None:
    """Skip (fail in CI) when Debian's Chromium is not installed."""
    if not Path(CHROMIUM).exists():
        message = "chromium not installed (tests/infra/install-system.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def zh_context_without_javascript() -> Iterator[BrowserContext]:
    """A fresh Chromium profile, zh-CN, JavaScript off; closed and removed after."""
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
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def fonts_drawing(page: Page, selector: str = "h1") -> set[str]:
    """The font families Chromium actually drew the first ``selector``'s glyphs in."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"] for f in fonts if f["glyphCount"] > 0}


async def _seeded(var_dir: Path) -> None:
    settings = LedgerSettings(var_dir=var_dir)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
    finally:
        await log.close()


@contextmanager
def seeded_service(service: str, var_dir: Path) -> Iterator[ServiceProcess]:
    """A service's real server on a ledger initialised with the default configuration, for a
    page test (skipped locally, failed in CI, where Chromium is missing)."""
    require_chromium()
    asyncio.run(_seeded(var_dir))
    s = start_service(service, var_dir, FAST)
    try:
        yield s
    finally:
        s.stop()
