"""Each unit's due time from the time limits in force (services/dispatch/time_limits.py), and
provisional dues settled by a newer calendar (services/dispatch/provisional.py).

Expected dates across 春节 and 国庆节 are literals from the State Council's notices (see
tests/unit/test_calendar.py, whose notice table and starts are reused here), counted by hand,
on the package and on the table typed from the notices. The 2027 holidays below are a table
made up for the test (no 2027 notice is used or implied); it reaches dispatch through the
calendar module's seam (``OverlayCalendar``), not a mock of the package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.dispatch import commands, provisional
from services.dispatch.calendars import CalendarShelf
from services.dispatch.projection import RULES as DISPATCH_RULES
from services.dispatch.projection import DispatchCases
from services.dispatch.routing import RouteIndex
from services.dispatch.time_limits import dues, limit_for
from shared.calendar import (
    OverlayCalendar,
    StatutoryCalendar,
    TableCalendar,
    WorkingCalendar,
)
from shared.events.catalog import LimitSpec, Routing, TimeLimits, UnitDirectory, Urgency
from shared.ledger.configuration import default_contents
from shared.readside.projection import Accepted
from shared.rules.case import RECEIVED, CaseState
from shared.rules.case.dispatch import RULES as CASE_DISPATCH_RULES
from tests.unit.service_decide_support import judged, stream
from tests.unit.test_calendar import (
    CALENDARS,
    NATIONAL_2025,
    NATIONAL_2026,
    SPRING_2025,
    SPRING_2026,
    cst,
    span,
)

DEFAULTS = default_contents()
LIMITS = TimeLimits.model_validate(DEFAULTS["time_limits"])
ROUTES = RouteIndex(
    Routing.model_validate(DEFAULTS["routing"]),
    UnitDirectory.model_validate(DEFAULTS["unit_directory"]),
)
PACKAGE = StatutoryCalendar()
OFFICER = "efficiency-office/D001"
UNITS = ["unit:lead", "unit:co-1", "unit:co-2"]


def wd(n: int) -> LimitSpec:
    return LimitSpec(amount=n, unit="working_days")


# (start, limit, due): literal dates from the notices
ACROSS = [
    # 2025 春节 (1/28-2/4 off; 1/26 Sun and 2/8 Sat work): 1/26, 1/27, 2/5, 2/6, 2/7, 2/8, 2/10
    (SPRING_2025, wd(7), cst(2025, 2, 11)),
    # 2026 春节 (2/15-2/23 off; 2/14 Sat and 2/28 Sat work): 2/14, 2/24-2/27, 2/28, 3/2
    (SPRING_2026, wd(7), cst(2026, 3, 3)),
    # 2025 国庆节、中秋节 (10/1-10/8 off; 9/28 Sun and 10/11 Sat work)
    (NATIONAL_2025, wd(7), cst(2025, 10, 14)),
    # 2026 中秋节 9/25-27, 国庆节 10/1-10/7 (9/20 Sun and 10/10 Sat work), 15 working days
    (NATIONAL_2026, wd(15), cst(2026, 10, 16)),
]


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize(("start", "limit", "expected"), ACROSS)
def test_every_unit_gets_its_due_across_the_holidays(
    calendar: WorkingCalendar, start: datetime, limit: LimitSpec, expected: datetime
) -> None:
    got = dues(start, limit, calendar, UNITS)
    assert list(got) == UNITS
    for due in got.values():
        assert due.at == expected and not due.provisional
        assert due.calendar_version == calendar.version


def test_the_limit_is_the_categorys_for_its_urgency_else_the_urgencys() -> None:
    assert limit_for(LIMITS, "劳动欠薪", Urgency.normal) == wd(5)
    assert limit_for(LIMITS, "劳动欠薪", Urgency.high) == LimitSpec(amount=24, unit="hours")
    assert limit_for(LIMITS, "食品安全", Urgency.high) == LimitSpec(amount=12, unit="hours")
    assert limit_for(LIMITS, "住房保障", Urgency.low) == wd(15)
    assert limit_for(LIMITS, "住房保障", Urgency.urgent) == LimitSpec(amount=2, unit="hours")


def test_an_urgent_case_is_due_in_hours_through_the_holiday() -> None:
    # 2 hours from 2025-09-30 23:00: 01:00 on 10/1, 国庆节 or not.
    [due] = dues(
        cst(2025, 9, 30, 23, 0), LimitSpec(amount=2, unit="hours"), PACKAGE, ["u"]
    ).values()
    assert due.at.isoformat() == "2025-10-01T01:00:00+08:00" and not due.provisional


# ---- 2027: provisional, then confirmed after a calendar update --------------------------------

TEST_2027 = TableCalendar(
    version="test-2027",
    years=frozenset({2027}),
    holidays=frozenset(span("2027-01-01", "2027-01-03")),
)
UPDATED = OverlayCalendar("chinesecalendar-1.11.0-test-2027", PACKAGE, TEST_2027)
CASE = CaseState(status=RECEIVED, unit="unit:huicheng-district", screened=True, screening="new")
# Monday 2026-12-28, 7 working days: 12/29, 12/30, 12/31, then 2027 by weekends alone:
# 1/1 (Fri), 1/4, 1/5, 1/6 → due 2027-01-07 00:00, provisional. Under the update 1/1 is off:
# 12/29, 12/30, 12/31, 1/4, 1/5, 1/6, 1/7 → 2027-01-08 00:00, settled.
YEAR_END = cst(2026, 12, 28, 9, 30)


def assigned(calendar: WorkingCalendar = PACKAGE) -> dict[str, Any]:
    basis = commands.AssignmentBasis("1", ROUTES, "1", LIMITS, calendar, "劳动欠薪", YEAR_END)
    cmd = commands.AssignCase(working_days=7, override_reason="跨年，按7个工作日")
    [draft] = commands.assign(stream(CASE), cmd, OFFICER, basis)
    return draft.data


def projected(data: dict[str, Any]) -> dict[str, Any]:
    doc = DispatchCases().fresh()
    doc["_id"] = "case-1"
    doc["complaint_no"] = "TS0001"
    accepted = Accepted(
        "case-1", 0, 1, 1, "id", "ledger.dispatch.assigned.v1", OFFICER, "/x", data, {}
    )
    DISPATCH_RULES["ledger.dispatch.assigned.v1"](doc, data, accepted)
    return doc


def test_a_due_in_2027_is_provisional_for_every_unit() -> None:
    data = assigned()
    assert data["lead_unit"] == "unit:huicheng-district"
    assert data["due_at"] == "2027-01-07T00:00:00+08:00" and data["provisional"] is True
    assert [u["provisional"] for u in data["co_units"]] == [True]  # its co-unit too
    assert data["calendar_version"] == "chinesecalendar-1.11.0"


def test_a_newer_calendar_lists_the_provisional_dues_it_would_change_and_changes_nothing() -> None:
    doc = projected(assigned())
    units = [doc["dues"][0]["unit"], doc["dues"][1]["unit"]]
    pending = provisional.changes([(doc, units)], UPDATED)
    assert [(p.case, p.complaint_no, p.unit, p.moved) for p in pending] == [
        ("case-1", "TS0001", "unit:huicheng-district", True),
        ("case-1", "TS0001", "unit:human-resources", True),
    ]
    assert pending[0].previous.at == cst(2027, 1, 7) and pending[0].previous.provisional
    assert pending[0].revised.at == cst(2027, 1, 8) and not pending[0].revised.provisional
    assert pending[0].revised.calendar_version == "chinesecalendar-1.11.0-test-2027"
    assert doc["dues"][0]["due_at"] == "2027-01-07T00:00:00+08:00"  # nothing moved by itself
    # The calendar the dues were counted on changes nothing: nothing is listed.
    assert provisional.changes([(doc, units)], PACKAGE) == []
    # A unit no longer on the clock (deemed done, returned) is not listed.
    assert [p.unit for p in provisional.changes([(doc, units[:1])], UPDATED)] == units[:1]


def test_the_officer_confirms_the_move_and_the_rule_book_moves_that_units_clock() -> None:
    data = assigned()
    state = CASE_DISPATCH_RULES["ledger.dispatch.assigned.v1"][1](CASE, data)
    change = provisional.revised_due(projected(data), "unit:huicheng-district", UPDATED)
    assert change is not None
    cmd = commands.ConfirmDue(
        unit="unit:huicheng-district",
        previous_due_at=change.previous.at,
        due_at=change.revised.at,
    )
    [draft] = commands.confirm_due(
        stream(state), cmd, OFFICER, change.revised.at, False, UPDATED.version
    )
    assert draft.type == "ledger.dispatch.due_confirmed.v1"
    assert draft.data == {
        "unit": "unit:huicheng-district",
        "previous_due_at": "2027-01-07T00:00:00+08:00",
        "due_at": "2027-01-08T00:00:00+08:00",
        "provisional": False,
        "calendar_version": "chinesecalendar-1.11.0-test-2027",
    }
    assert judged(state, draft) is None
    moved = CASE_DISPATCH_RULES["ledger.dispatch.due_confirmed.v1"][1](state, draft.data)
    lead = moved.clock("unit:huicheng-district")
    assert lead is not None and lead.due_at == "2027-01-08T00:00:00+08:00"
    assert not lead.provisional
    co = moved.clock("unit:human-resources")
    assert co is not None and co.provisional and co.due_at == "2027-01-07T00:00:00+08:00"
    # Once settled, the same confirmation is refused by the decision and by the rule book.
    with pytest.raises(commands.Refusal) as refused:
        commands.confirm_due(stream(moved), cmd, OFFICER, change.revised.at, False, "v")
    assert refused.value.reason == "not_provisional"
    assert judged(moved, draft) == "wrong_state"


def test_a_confirmation_naming_a_stale_due_or_another_revision_is_refused() -> None:
    data = assigned()
    state = CASE_DISPATCH_RULES["ledger.dispatch.assigned.v1"][1](CASE, data)
    good = cst(2027, 1, 8)
    stale = commands.ConfirmDue(
        unit="unit:huicheng-district", previous_due_at=cst(2027, 1, 6), due_at=good
    )
    with pytest.raises(commands.Refusal) as refused:
        commands.confirm_due(stream(state), stale, OFFICER, good, False, "v")
    assert refused.value.reason == "stale_due"
    other = commands.ConfirmDue(
        unit="unit:huicheng-district", previous_due_at=cst(2027, 1, 7), due_at=cst(2027, 1, 9)
    )
    with pytest.raises(commands.Refusal):
        commands.confirm_due(stream(state), other, OFFICER, good, False, "v")
    # The rule book refuses a confirmation naming a due that is not the unit's current one.
    draft = commands.confirm_due(
        stream(state),
        commands.ConfirmDue(
            unit="unit:huicheng-district", previous_due_at=cst(2027, 1, 7), due_at=good
        ),
        OFFICER,
        good,
        False,
        "v",
    )[0]
    assert (
        judged(
            state,
            draft.__class__(
                draft.type,
                {**draft.data, "previous_due_at": "2027-01-06T00:00:00+08:00"},
                draft.actor,
            ),
        )
        == "wrong_state"
    )
    off_case = {**draft.data, "unit": "unit:elsewhere"}
    assert judged(state, draft.__class__(draft.type, off_case, draft.actor)) == "not_assigned"


def test_the_shelf_names_the_calendars_this_process_counts_on() -> None:
    shelf = CalendarShelf(PACKAGE)
    assert shelf.named("chinesecalendar-1.11.0") is PACKAGE
    assert shelf.named(UPDATED.version) is None
    shelf.add(UPDATED)
    assert shelf.named(UPDATED.version) is UPDATED
    shelf.remove(UPDATED.version)
    assert shelf.versions() == ["chinesecalendar-1.11.0"]


def test_the_overlay_answers_for_its_years_and_the_base_for_the_rest() -> None:
    assert UPDATED.is_working_day(cst(2027, 1, 1).date()) is False
    assert UPDATED.is_working_day(cst(2027, 1, 4).date()) is True
    assert UPDATED.is_working_day(cst(2026, 10, 1).date()) is False  # the package: 国庆节
    assert UPDATED.is_working_day(cst(2028, 1, 3).date()) is None
