"""Closing the loop's pure decisions (services/oversight/extensions.py, reopen.py, closing.py,
inspections.py, complainant_notices.py), each draft judged by the rule book as every reader
would judge it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.oversight import closing, extensions, inspections, reopen
from services.oversight.complainant_notices import extension_notice
from shared.calendar import StatutoryCalendar
from shared.events.catalog import TimeLimits, Urgency
from shared.ledger.configuration import SOURCE_DEFAULTS_DIR, default_contents
from shared.rules.case import ASSIGNED, CLAIMED, DISPUTED, NEW, CaseState, UnitClock
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import DUE, PSEUDONYM, UNIT, judged, lead, stream

SUPERVISOR = "efficiency-office/S001"
LIMITS = TimeLimits.model_validate(default_contents(SOURCE_DEFAULTS_DIR)["time_limits"])
CALENDAR = StatutoryCalendar()
CO = "unit:civil-affairs"


def pending(**changes: object) -> CaseState:
    return CaseState(status=ASSIGNED, clocks=(lead(),), extensions_pending=(UNIT,))._replace(
        **changes
    )


def test_a_granted_extension_counts_working_days_from_the_units_due_time() -> None:
    cmd = extensions.GrantExtension(unit=UNIT, working_days=5, ruling="同意")
    [draft] = extensions.rule(stream(pending()), cmd, SUPERVISOR, LIMITS, CALENDAR)
    assert draft.data["granted"] and draft.data["due_at"] == "2026-12-22T00:00:00+08:00"
    assert draft.data["complainant_notice"] == extension_notice(True, draft.data["due_at"])
    assert "办理期限延长至2026年12月21日24时" in draft.data["complainant_notice"]
    assert judged(pending(), draft) is None


def test_a_refused_extension_tells_the_complainant_the_unchanged_due_time() -> None:
    cmd = extensions.RefuseExtension(unit=UNIT, ruling="督办员李四：理由不足")
    [draft] = extensions.rule(stream(pending()), cmd, SUPERVISOR, LIMITS, CALENDAR)
    assert not draft.data["granted"] and "due_at" not in draft.data
    assert draft.data["complainant_notice"] == (
        "承办单位申请延长办理期限，经督办机构审核未予同意，承办单位须在原定期限2026年12月14日24时前办结。"
    )
    assert judged(pending(), draft) is None


@pytest.mark.parametrize(
    ("case", "days", "reason"),
    [
        (pending(extensions_pending=()), 5, "no_extension_pending"),
        (pending(status=CLAIMED), 5, "wrong_state"),
        (pending(), 16, "extension_too_long"),  # extension_at_most: 15 working days
        (CaseState(status=ASSIGNED, clocks=(lead(CO),)), 5, "not_assigned"),
    ],
)
def test_an_extension_ruling_refuses(case: CaseState, days: int, reason: str) -> None:
    cmd = extensions.GrantExtension(unit=UNIT, working_days=days, ruling="同意")
    with pytest.raises(Refusal) as refused:
        extensions.rule(stream(case), cmd, SUPERVISOR, LIMITS, CALENDAR)
    assert refused.value.reason == reason


def _disputed() -> CaseState:
    co = UnitClock(CO, False, DUE, 1_765_728_000_000_000, deemed_done=True, overdue=True)
    return CaseState(
        status=DISPUTED, clocks=(lead(completed=True), co), complaints=(("TS1", PSEUDONYM),)
    )


def _basis(dispute: str = "dispute-1", category: str | None = "劳动欠薪") -> reopen.ReopenBasis:
    start = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # a Wednesday
    return reopen.ReopenBasis(LIMITS, CALENDAR, category, Urgency.normal, start, dispute)


def test_a_reopen_counts_each_units_fresh_due_time_and_names_the_dispute() -> None:
    state = stream(_disputed())
    state.seen_ids.add("dispute-1")
    [draft] = reopen.reopen(state, reopen.Reopen(reason="重新核查"), SUPERVISOR, _basis())
    # 劳动欠薪 at normal urgency: 5 working days (its category's own limit), for every unit.
    assert [(u["unit"], u["due_at"]) for u in draft.data["units"]] == [
        (UNIT, "2026-12-10T00:00:00+08:00"),
        (CO, "2026-12-10T00:00:00+08:00"),
    ]
    assert draft.data["cause"] == "dispute-1"
    assert "2026年12月9日24时" in draft.data["complainant_notice"]
    assert judged(_disputed(), draft) is None
    after = state.domain
    assert after.reopened == 0  # the rule book counts it when folded


def test_a_reopen_without_a_category_takes_its_urgencys_limit() -> None:
    state = stream(_disputed())
    state.seen_ids.add("dispute-1")
    [draft] = reopen.reopen(state, reopen.Reopen(reason="重办"), SUPERVISOR, _basis(category=None))
    assert draft.data["units"][0]["due_at"] == "2026-12-12T00:00:00+08:00"  # 7 working days


@pytest.mark.parametrize(
    ("status", "seen", "reason"),
    [(CLAIMED, True, "not_disputed"), (DISPUTED, False, "unknown_dispute")],
)
def test_a_reopen_refuses(status: str, seen: bool, reason: str) -> None:
    state = stream(_disputed()._replace(status=status))
    if seen:
        state.seen_ids.add("dispute-1")
    with pytest.raises(Refusal) as refused:
        reopen.reopen(state, reopen.Reopen(reason="重办"), SUPERVISOR, _basis())
    assert refused.value.reason == reason


def test_the_answer_deadline_is_the_configured_revisit_window() -> None:
    claimed_at = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    due = closing.answer_due(claimed_at, LIMITS, CALENDAR)
    assert LIMITS.revisit_within.amount == 3
    assert due.at.isoformat() == "2026-12-08T00:00:00+08:00"  # Thu, Fri, Mon


def test_an_inspection_finding_opens_a_new_case_only() -> None:
    cmd = inspections.RecordFinding.model_validate(
        {
            "unit": UNIT,
            "post": "收费窗口",
            "finding": "gaming",
            "text": "工作时间玩游戏",
            "inspected_on": "2026-11-30T02:00:00Z",
            "evidence": [{"media_type": "image/png", "data": "aGVsbG8="}],
        }
    )
    [draft] = inspections.record(stream(CaseState(status=NEW), 0), cmd, SUPERVISOR, ["ab" * 32])
    assert draft.data["inspected_on"] == "2026-11-30T10:00:00+08:00"
    assert draft.data["evidence"] == ["ab" * 32] and "staff_id" not in draft.data
    assert judged(CaseState(status=NEW), draft) is None
    with pytest.raises(Refusal):
        inspections.record(stream(CaseState(status=ASSIGNED)), cmd, SUPERVISOR, ["ab" * 32])
    with pytest.raises(ValueError):
        inspections.EvidenceFile.model_validate({"media_type": "image/png", "data": "not b64!"})
