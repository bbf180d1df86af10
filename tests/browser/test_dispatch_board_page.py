"""The dispatch board and a case's transfer path in real headless Chromium, on the four
services as ``make run`` starts them (SQLite): twenty-two screened cases page the list of
cases awaiting assignment (twenty a page) and the filters narrow it; the officer assigns one
on the board; the unit asks to return it on the workbench; the officer refuses on the board
(the return leaves the list, the case keeps its lead), the unit asks again and the officer
grants it with the next lead; the case page draws the transfer path (the first unit, then the
next), no script needed. Desktop and phone widths, screenshots under
``var/test-artifacts/screenshots/dispatch-board/``; any console error, failed request or
response of 400 or more fails the test."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.chromium import ARGS, CHROMIUM, require_chromium
from tests.browser.test_end_to_end_pages import WAIT, Walk, submit, until_shown
from tests.conftest import REPO
from tests.integration.test_end_to_end import COMPLAINT, UNIT, Ledger, api, post, start_ledger

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

SHOTS = REPO / "var/test-artifacts/screenshots/dispatch-board"
NEXT = "unit:housing-bureau"
CASES = 22


@pytest.fixture()
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    require_chromium()
    running = start_ledger(tmp_path, "sqlite")
    try:
        yield running
    finally:
        running.stop()


def screened_cases(ledger: Ledger, n: int) -> list[str]:
    clerk = api(ledger, "intake", "intake_clerk")
    cases = []
    for i in range(n):
        body = {**COMPLAINT, "category": "窗口服务" if i % 2 else "办事效率"}
        case = post(clerk, "/complaints", body)["stream"]
        post(clerk, f"/complaints/{case}/screening", {"outcome": "new"})
        cases.append(case)
    return cases


def shows(page: Page, url: str, text: str) -> None:
    deadline = time.monotonic() + WAIT
    while text not in page.content():
        assert time.monotonic() < deadline, f"{url} never showed {text}"
        time.sleep(0.3)
        page.goto(url)


def test_the_board_pages_filters_and_rules_on_a_return(ledger: Ledger) -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    cases = screened_cases(ledger, CASES)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        walk = Walk(browser, ledger, SHOTS)
        try:
            walk_the_board(walk, ledger, cases)
        finally:
            for context in walk.contexts:
                context.close()
            browser.close()
    assert not walk.problems, "\n".join(walk.problems)
    assert len(walk.shots) == 2 * 5


def walk_the_board(walk: Walk, ledger: Ledger, cases: list[str]) -> None:
    dispatch = ledger.url("dispatch")
    officer = walk.person("dispatch", "dispatch_officer")
    board = dispatch + "/board"
    shows(officer, board, f"待转办（已甄别，{CASES} 件）")
    walk.shoot(officer, "1-board")

    # Paging: the list awaiting assignment, twenty a page.
    officer.locator("a.board-view-ready").click()
    officer.wait_for_load_state()
    assert "第 1 / 2 页" in officer.content()
    assert officer.locator("table.board-ready tbody tr").count() == 20
    officer.locator("a[rel=next]").click()
    officer.wait_for_load_state()
    assert "第 2 / 2 页" in officer.content()
    assert officer.locator("table.board-ready tbody tr").count() == CASES - 20
    # Filters: one category halves it (no more paging).
    officer.fill("input[name=category]", "办事效率")
    submit(officer.locator("form.board-filters button"))
    assert f"待转办（已甄别，{CASES // 2} 件）" in officer.content()
    assert officer.locator("a[rel=next]").count() == 0
    walk.shoot(officer, "2-board-filtered")

    # 交办 one case on the board.
    case = cases[0]
    officer.goto(board)
    form = officer.locator(f"form[action='/board/{case}/assignment']")
    form.locator("input[name=lead_unit]").fill(UNIT)
    form.locator("input[name=working_days]").fill("10")
    form.locator("input[name=override_reason]").fill("试点单位")  # another unit than proposed
    submit(form.locator("button[type=submit]"))
    assert "办理中（1 件" in officer.content()

    # The unit asks to return it, with its reason, on the workbench.
    handler = walk.person("oversight", "unit_handler")
    bench = ledger.url("oversight") + "/workbench"

    def ask(reason: str) -> None:
        until_shown(handler, bench, f"form[action='/workbench/{case}/return-request']")
        request = handler.locator(f"form[action='/workbench/{case}/return-request']")
        request.locator("textarea").fill(reason)
        submit(request.locator("button"))

    ask("该事项属住房保障部门职责")
    walk.shoot(handler, "3-workbench")

    # Refused on the board: the return leaves the list; the case keeps its lead.
    returns = board + "?view=returns"
    until_shown(officer, returns, f"form[action='/board/{case}/return-ruling']")
    assert "该事项属住房保障部门职责" in officer.content()
    walk.shoot(officer, "4-board-returns")
    ruling = officer.locator(f"form[action='/board/{case}/return-ruling']")
    ruling.locator("textarea[name=ruling]").fill("属本单位职责，继续办理")
    submit(ruling.locator("button[value=refuse]"))  # back on the case page
    assert officer.locator("tr.holding-row").count() == 1
    assert "持有中" in officer.locator("tr.holding-row").inner_text()
    assert "<h2>退单待裁定</h2>" not in officer.content()  # nothing pending
    officer.goto(board)
    assert officer.locator("a.board-view-returns .count").inner_text() == "0"

    # Asked again, granted with the next lead: straight to it.
    ask("确属住房保障部门职责")
    until_shown(officer, returns, f"form[action='/board/{case}/return-ruling']")
    ruling = officer.locator(f"form[action='/board/{case}/return-ruling']")
    ruling.locator("textarea[name=ruling]").fill("准予退单，直接交办住房保障部门")
    ruling.locator("input[name=next_lead]").fill(NEXT)
    submit(ruling.locator("button[value=grant]"))

    # The case page draws the transfer path: the first unit, returned; then the next.
    assert f"/board/cases/{case}" in officer.url
    rows = officer.locator("tr.holding-row")
    assert rows.count() == 2
    assert UNIT in rows.nth(0).inner_text() and "退单获准" in rows.nth(0).inner_text()
    assert NEXT in rows.nth(1).inner_text() and "持有中" in rows.nth(1).inner_text()
    assert officer.locator("svg.transfer-path rect").count() == 2
    walk.shoot(officer, "5-case-transfer-path")
