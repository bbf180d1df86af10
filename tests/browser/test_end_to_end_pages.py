"""One case's life walked in real headless Chromium (Debian's ``chromium``, Playwright) through
the four services started as ``make run`` starts them (SQLite): the clerk records it on the
intake queue and screens it, the dispatch officer assigns it on the board, the unit handler
signs for it, replies and claims resolution on the workbench, the complainant checks its
status and confirms on the public follow-up page, a supervisor closes it on the dashboard, a
reviewer drafts and publishes its notice on the review queue, and the notice appears on the
public notice page. Each page is seen at desktop (1280×800) and phone (390×844) widths and kept
as a screenshot under ``var/test-artifacts/screenshots/``. Any console error, page error,
failed request or response of 400 or more fails the test."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Response,
    sync_playwright,
)

from tests.browser.chromium import ARGS, CHROMIUM, CJK_FAMILIES, fonts_drawing, require_chromium
from tests.conftest import REPO
from tests.integration.test_end_to_end import COMPLAINT, UNIT, Ledger, start_ledger

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

SHOTS = REPO / "var/test-artifacts/screenshots/end-to-end"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
WAIT = 60.0  # s: the longest a page waits for another service's read model


@pytest.fixture()
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    require_chromium()
    running = start_ledger(tmp_path, "sqlite")
    try:
        yield running
    finally:
        running.stop()


class Walk:
    """The browser, one context per person (each with its own cookies), the problems seen on
    any page, and the screenshots taken."""

    def __init__(self, browser: Browser, ledger: Ledger, directory: Path = SHOTS) -> None:
        self.browser = browser
        self.ledger = ledger
        self.directory = directory  # where its screenshots go
        self.problems: list[str] = []
        self.shots: list[Path] = []
        self.contexts: list[BrowserContext] = []
        self.expected: set[tuple[int, str]] = set()  # (status, path): refusals the walk asks for

    def person(self, service: str, role: str | None = None) -> Page:
        w, h = WIDTHS["desktop"]
        context = self.browser.new_context(locale="zh-CN", viewport={"width": w, "height": h})
        self.contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not self._expected(m)
                and self.problems.append(f"console: {m.text} {m.location}")
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"),
        )
        page.on("response", self._answered)
        page.goto(self.ledger.url(service) + "/signin" if role else self.ledger.url(service))
        if role:
            staff = "demo-" + role.replace("_", "-")
            page.fill("#staff_id", staff)
            page.fill("#password", self.ledger.passwords(service)[staff])
            submit(page.locator("button[type=submit]"))
            page.wait_for_load_state()
            assert "/signin" not in page.url, page.content()
        return page

    def _answered(self, response: Response) -> None:
        if response.status >= 400 and (response.status, urlsplit(response.url).path) not in (
            self.expected
        ):
            self.problems.append(f"{response.status}: {response.url}")

    def _expected(self, message: ConsoleMessage) -> bool:
        """The console's line for a refusal the walk asks for."""
        path = urlsplit(message.location.get("url", "")).path
        return any(p == path and str(st) in message.text for st, p in self.expected)

    def shoot(self, page: Page, name: str) -> None:
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            path = self.directory / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > w:  # wide tables scroll in their own box; the page itself never does
                self.problems.append(f"{name} is {wide} px wide at {width} width ({w} px)")
            self.shots.append(path)
        w, h = WIDTHS["desktop"]
        page.set_viewport_size({"width": w, "height": h})


def submit(button: Locator) -> None:
    """Click and wait for the page the form answers with (a 303 to the page, or a page)."""
    with button.page.expect_navigation():
        button.click()


def until_shown(page: Page, url: str, selector: str) -> None:
    """Reload ``url`` until ``selector`` is on it (another service's step reaches this one's
    read model within its projector's poll)."""
    deadline = time.monotonic() + WAIT
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return
        assert time.monotonic() < deadline, f"{url} never showed {selector}"
        time.sleep(0.3)


def test_one_case_walked_in_chromium_at_desktop_and_phone_widths(ledger: Ledger) -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        walk = Walk(browser, ledger)
        try:
            run_life(walk, ledger)
        finally:
            for context in walk.contexts:
                context.close()
            browser.close()
            print(f"\nscreenshots ({len(walk.shots)}) in {SHOTS}")
    assert not walk.problems, "\n".join(walk.problems)
    assert len(walk.shots) == 2 * 10


def run_life(walk: Walk, ledger: Ledger) -> None:
    intake = ledger.url("intake")
    # The public entry links to the follow-up page, drawn in a CJK font.
    citizen = walk.person("intake")
    citizen.goto(intake + "/public")
    assert citizen.locator("nav a[href='/public/follow-up']").count() == 1
    assert fonts_drawing(citizen) & CJK_FAMILIES

    # 受理 on the queue's form; the receipt shows the tracking code once.
    clerk = walk.person("intake", "intake_clerk")
    clerk.goto(intake + "/queue")
    clerk.select_option("#channel", "visit")
    clerk.fill("#unit", COMPLAINT["unit"])
    clerk.select_option("#category", "service_attitude")
    clerk.fill("#text", COMPLAINT["text"])
    clerk.fill("#contact", COMPLAINT["contact"])
    submit(clerk.locator("form.record button[type=submit]"))
    number = clerk.locator(".case-no").inner_text()
    code = clerk.locator(".tracking-code").inner_text()
    assert re.fullmatch(r"TS(?:[A-Z]{2,6}-)?[0-9A-F]{12}", number) and len(code) == 19
    submit(clerk.locator("text=返回受理队列"))
    form = clerk.locator("form.screening").first
    action = form.get_attribute("action")
    assert action
    case = action.split("/")[2]
    walk.shoot(clerk, "1-intake-queue")
    form.locator("select[name=outcome]").select_option("new")
    submit(form.locator("button[type=submit]"))
    clerk.wait_for_load_state()

    # 转办 on the board.
    officer = walk.person("dispatch", "dispatch_officer")
    board = ledger.url("dispatch") + "/board"
    until_shown(officer, board, f"form[action='/board/{case}/assignment']")
    walk.shoot(officer, "2-dispatch-board")
    assignment = officer.locator(f"form[action='/board/{case}/assignment']")
    assignment.locator("input[name=lead_unit]").fill(UNIT)
    assignment.locator("input[name=override_reason]").fill("示范单位承办")
    submit(assignment.locator("button[type=submit]"))
    officer.wait_for_load_state()
    assert "办理中（1 件" in officer.content()

    # The unit's workbench: 签收, 答复, 报办结.
    handler = walk.person("oversight", "unit_handler")
    bench = ledger.url("oversight") + "/workbench"
    until_shown(handler, bench, f"form[action='/workbench/{case}/acknowledgement']")
    walk.shoot(handler, "3-oversight-workbench")
    submit(handler.locator(f"form[action='/workbench/{case}/acknowledgement'] button"))
    until_shown(handler, bench, f"form[action='/workbench/{case}/replies']")
    replies = handler.locator(f"form[action='/workbench/{case}/replies']")
    replies.locator("textarea").fill("已约谈窗口负责人，恢复正常排班。")
    submit(replies.locator("button"))
    handler.wait_for_load_state()
    claim = handler.locator(f"form[action='/workbench/{case}/resolution-claim']")
    claim.locator("textarea").fill("窗口已恢复正常办理。")
    submit(claim.locator("button"))
    handler.wait_for_load_state()
    assert "单位报办结" in handler.content()

    # The complainant: a wrong code is refused (the one refusal the walk expects), then the
    # status and the confirmation with the right one.
    walk.expected.add((404, "/public/follow-up"))
    citizen.goto(intake + "/public/follow-up")
    citizen.fill("#complaint_no", number)
    citizen.fill("#code", "0000-0000-0000-0000")
    submit(citizen.locator("button[type=submit]"))
    assert "投诉编号或查询码不正确" in citizen.content()
    walk.expected.clear()
    deadline = time.monotonic() + WAIT
    while True:
        citizen.goto(intake + "/public/follow-up")
        citizen.fill("#complaint_no", number)
        citizen.fill("#code", code.lower())
        submit(citizen.locator("button[type=submit]"))
        if "单位报办结" in citizen.content():
            break
        assert time.monotonic() < deadline, citizen.content()
        time.sleep(0.3)
    walk.shoot(citizen, "4-public-follow-up-status")
    citizen.goto(intake + "/public/follow-up")
    walk.shoot(citizen, "5-public-follow-up-form")
    citizen.fill("#complaint_no", number)
    citizen.fill("#code", code)
    citizen.check("input[name=action][value=confirm]")
    submit(citizen.locator("button[type=submit]"))
    assert "您已确认问题已解决" in citizen.content()

    # 办结 on the dashboard.
    supervisor = walk.person("oversight", "supervisor")
    dashboard = ledger.url("oversight") + "/dashboard"
    until_shown(supervisor, dashboard, f"form[action='/dashboard/{case}/closure']")
    deadline = time.monotonic() + WAIT
    while "投诉人已确认" not in supervisor.content():
        assert time.monotonic() < deadline, supervisor.content()
        time.sleep(0.3)
        supervisor.reload()
    walk.shoot(supervisor, "6-oversight-dashboard")
    closure = supervisor.locator(f"form[action='/dashboard/{case}/closure']")
    closure.locator("select[name=basis]").select_option("complainant_confirmed")
    closure.locator("select[name=finding]").select_option("substantiated")
    submit(closure.locator("button[type=submit]"))
    supervisor.wait_for_load_state()
    assert 'data-status="closed">1<' in supervisor.content()

    # 公开: draft from the structured fields, publish.
    reviewer = walk.person("publication", "publication_reviewer")
    review = ledger.url("publication") + "/review"
    until_shown(reviewer, review, f"form[action='/review/{case}/notice']")
    walk.shoot(reviewer, "7-publication-review")
    submit(reviewer.locator(f"form[action='/review/{case}/notice'] button"))
    until_shown(reviewer, review, f"form[action='/review/{case}/publication']")
    walk.shoot(reviewer, "8-publication-review-draft")
    submit(reviewer.locator(f"form[action='/review/{case}/publication'] button"))
    reviewer.wait_for_load_state()
    assert "近期已公开" in reviewer.content()

    # The notice on the public page, linked from publication's public entry.
    reader = walk.person("publication")
    reader.goto(ledger.url("publication") + "/public")
    assert reader.locator("nav a[href='/public/notices']").count() == 1
    walk.shoot(reader, "9-public-home")
    notices = ledger.url("publication") + "/public/notices"
    deadline = time.monotonic() + WAIT
    while True:
        reader.goto(notices)
        if "经核查，群众反映的问题属实" in reader.content():
            break
        assert time.monotonic() < deadline, reader.content()
        time.sleep(0.3)
    walk.shoot(reader, "10-public-notices")
