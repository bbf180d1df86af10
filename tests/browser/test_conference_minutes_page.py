"""The joint conference's pages in real headless Chromium, JavaScript off: a dispatch officer
convenes through the form; the member body's pending opinion is listed and given on the
minutes page (the member signs in after, in the same browser); once the opinion deadline has
elapsed (the timer's event, written as oversight's scheduler writes it) the officer records
the decision on the count the page shows; the minutes name the absent member deemed to
consent; the archive lists them; the printable document prints on A4 (its print CSS: no
navigation, no forms) with its Chinese drawn in a CJK font. Screenshots and the PDF are kept
under ``var/test-artifacts/conference/``."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.browser.chromium import (
    CJK_FAMILIES,
    FAST,
    fonts_drawing,
    require_chromium,
    zh_context_without_javascript,
)
from tests.conftest import REPO
from tests.integration.web_servers import ServiceProcess, start_service
from tests.samples import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]
SHOTS = REPO / "var/test-artifacts/conference"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = "case-00000000-0000-4000-8000-00000000c0f1"
A4_POINTS = (595.0, 842.0)  # 210 × 297 mm


async def _write(var_dir: Path, stream: str, service: str, draft: Draft) -> None:
    settings = LedgerSettings(var_dir=var_dir)
    log = await open_log(settings)
    try:
        signer = Signer(spec(service).deployment, keystore.load(settings, service))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        result = await writer.submit(stream, lambda st: [draft])
        assert result.accepted, result.refused
    finally:
        await log.close()


async def _seeded(var_dir: Path) -> None:
    settings = LedgerSettings(var_dir=var_dir)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
    finally:
        await log.close()
    received = SAMPLES["ledger.complaint.received.v1"]
    await _write(
        var_dir,
        CASE,
        "intake",
        Draft("ledger.complaint.received.v1", received, "efficiency-office/C001"),
    )


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServiceProcess]:
    require_chromium()
    asyncio.run(_seeded(tmp_path / "var"))
    s = start_service(
        "dispatch", tmp_path / "var", {**FAST, "LEDGER_PROJECTOR_POLL_SECONDS": "0.1"}
    )
    try:
        yield s
    finally:
        s.stop()


def _sign_in(page: object, server: ServiceProcess, staff_id: str) -> None:
    p = page  # a playwright Page
    p.context.clear_cookies()  # type: ignore[attr-defined]
    p.goto(server.url + "/signin")  # type: ignore[attr-defined]
    p.fill("input[name=staff_id]", staff_id)  # type: ignore[attr-defined]
    p.fill("input[name=password]", server.demo_passwords()[staff_id])  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]


def _reload_until(page: object, url: str, text: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)  # type: ignore[attr-defined]
        if text in page.content():  # type: ignore[attr-defined]
            return
        assert time.monotonic() < deadline, f"{text!r} never shown at {url}"
        time.sleep(0.3)


def test_minutes_pages_and_the_printable_a4_document(server: ServiceProcess) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    due = (datetime.now(SHANGHAI) + timedelta(seconds=25)).replace(microsecond=0)
    with zh_context_without_javascript() as context:
        officer = context.new_page()
        _sign_in(officer, server, "demo-dispatch-officer")
        _reload_until(officer, server.url + "/conferences", "召集联席会议")
        officer.fill("#question", "窗口长时间无人，是否由市效能办牵头联合督办？")
        officer.fill("#cases", CASE)
        officer.check("input[name=members][value=efficiency-office]")
        officer.check("input[name=members][value=petitions-office]")
        officer.select_option("#rule", "majority")
        officer.fill("#opinions_due", due.strftime("%Y-%m-%dT%H:%M:%S"))
        officer.click("text=召集并通知成员单位")
        assert "/minutes" in officer.url, officer.content()[:3000]
        conf = re.search(r"/conferences/(conf-[0-9a-f-]{36})/minutes", officer.url)
        assert conf is not None
        conference = conf.group(1)
        assert "征求意见中" in officer.content()

        # The member's pending opinion is listed; it is given on the minutes page.
        member = officer  # one browser: the member signs in after the officer
        _sign_in(member, server, "demo-conference-member")
        _reload_until(member, server.url + "/conferences/pending", conference)
        member.click(f"tr[data-conference='{conference}'] >> text=发表意见")
        member.check("input[name=opinion][value=consent]")
        member.fill("#text", "同意由市效能办牵头。")
        member.click("button:has-text('发表意见')")
        row = member.locator("tr[data-member='efficiency-office']")
        assert "同意" in row.inner_text() and "同意由市效能办牵头" in row.inner_text()
        assert member.locator("form.opinion-form").count() == 0  # spoken: no second opinion
        assert member.locator("form.note-form").count() == 1  # only a note now
        member.goto(server.url + "/conferences/pending")
        assert conference not in member.content()

        # The open list shows who has not spoken.
        _sign_in(officer, server, "demo-dispatch-officer")
        officer.goto(server.url + "/conferences")
        row = officer.locator(f"tr[data-conference='{conference}']")
        assert "信访部门" in row.locator("td.not-spoken").inner_text()

        # The deadline passes: the timer's event, as the scheduler writes it.
        time.sleep(max(0.0, (due - datetime.now(SHANGHAI)).total_seconds()) + 0.5)
        timer = Draft(
            "ledger.deadline.elapsed.v1",
            {"deadline": "opinions", "unit": None, "due_at": due.isoformat()},
            "efficiency-office/timer",
        )
        with ThreadPoolExecutor(1) as pool:  # playwright's sync API holds this thread's loop
            pool.submit(
                asyncio.run, _write(server.var_dir, conference, "oversight", timer)
            ).result()
        minutes_url = f"{server.url}/conferences/{conference}/minutes"
        _reload_until(officer, minutes_url, "期限届满")
        officer.fill("#decision", "由市效能办牵头，信访部门配合，十个工作日内办结。")
        officer.click("button:has-text('记录决定')")
        assert officer.locator("td.outcome").count() == 1, officer.content()[-2500:]
        assert officer.locator("td.outcome").inner_text().endswith("通过")
        assert "信访部门" in officer.locator("td.deemed-consent").inner_text()
        assert "同意 1，反对 0，弃权 0，缺席视为同意 1" in officer.locator("td.tally").inner_text()
        officer.screenshot(path=str(SHOTS / "minutes-page.png"), full_page=True)

        officer.goto(server.url + "/conferences/archive")
        assert conference in officer.content() and "通过" in officer.content()

        # The printable document: A4, no navigation or forms, Chinese in a CJK font.
        officer.goto(f"{minutes_url}/print")
        officer.emulate_media(media="print")
        assert officer.locator("nav, form, button").count() == 0
        assert officer.locator("h1.minutes-title").inner_text().replace(" ", "") == "联席会议纪要"
        assert fonts_drawing(officer, "h1.minutes-title") & CJK_FAMILIES
        body = officer.locator("article.minutes-sheet").inner_text()
        for text in ("缺席，视为同意", "同意由市效能办牵头", "十个工作日内办结", "过半数同意"):
            assert text in body, text
        assert officer.locator("article.minutes-sheet").evaluate(
            "e => getComputedStyle(e).borderTopStyle"
        ) in ("none", "hidden")  # the print CSS applies: the on-screen sheet's frame is gone
        officer.screenshot(path=str(SHOTS / "minutes-print.png"), full_page=True)
        pdf = officer.pdf(prefer_css_page_size=True, print_background=True)
        (SHOTS / "minutes.pdf").write_bytes(pdf)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes, "no page in the PDF"
        for w, h in boxes:
            assert abs(float(w) - A4_POINTS[0]) < 2 and abs(float(h) - A4_POINTS[1]) < 2
