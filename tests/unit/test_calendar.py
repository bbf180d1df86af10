"""Due times in working days and hours (shared/calendar.py).

Every expected due below is a literal written from the State Council's published notices,
counted by hand; none is computed with the calendar package under test:

- 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 12 November 2024)
- 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025)

A limit of N working days from an assignment on day D ends at 24:00 Asia/Shanghai of the Nth
working day after D, written as 00:00 of the day after it (``Due.at`` is the first late instant).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from pydantic import ValidationError

from shared.calendar import (
    MAX_AMOUNT,
    SHANGHAI,
    Due,
    DueChange,
    LimitUnit,
    NaiveStartError,
    RecordedDue,
    StatutoryCalendar,
    TableCalendar,
    TimeLimit,
    WorkingCalendar,
    due_at,
    provisional_changes,
)

NEW_YORK = ZoneInfo("America/New_York")  # has DST: the trap for wall-clock arithmetic


def span(first: str, last: str) -> set[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


def days(*isos: str) -> set[date]:
    return {date.fromisoformat(d) for d in isos}


# 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号)
NOTICE_2025_HOLIDAYS = (
    days("2025-01-01")  # 元旦: 1月1日放假1天, 不调休
    | span("2025-01-28", "2025-02-04")  # 春节: 1月28日(除夕)至2月4日(初七)
    | span("2025-04-04", "2025-04-06")  # 清明节
    | span("2025-05-01", "2025-05-05")  # 劳动节
    | span("2025-05-31", "2025-06-02")  # 端午节
    | span("2025-10-01", "2025-10-08")  # 国庆节、中秋节: 10月1日至8日
)
NOTICE_2025_WORKDAYS = days(
    "2025-01-26",  # 春节: 1月26日(周日)上班
    "2025-02-08",  # 春节: 2月8日(周六)上班
    "2025-04-27",  # 劳动节: 4月27日(周日)上班
    "2025-09-28",  # 国庆节: 9月28日(周日)上班
    "2025-10-11",  # 国庆节: 10月11日(周六)上班
)
# 国务院办公厅关于2026年部分节假日安排的通知 (2025年11月4日)
NOTICE_2026_HOLIDAYS = (
    span("2026-01-01", "2026-01-03")  # 元旦
    | span("2026-02-15", "2026-02-23")  # 春节: 2月15日(腊月二十八)至23日(初七)
    | span("2026-04-04", "2026-04-06")  # 清明节
    | span("2026-05-01", "2026-05-05")  # 劳动节
    | span("2026-06-19", "2026-06-21")  # 端午节
    | span("2026-09-25", "2026-09-27")  # 中秋节
    | span("2026-10-01", "2026-10-07")  # 国庆节
)
NOTICE_2026_WORKDAYS = days(
    "2026-01-04",  # 元旦: 1月4日(周日)上班
    "2026-02-14",  # 春节: 2月14日(周六)上班
    "2026-02-28",  # 春节: 2月28日(周六)上班
    "2026-05-09",  # 劳动节: 5月9日(周六)上班
    "2026-09-20",  # 国庆节: 9月20日(周日)上班
    "2026-10-10",  # 国庆节: 10月10日(周六)上班
)
NOTICES = TableCalendar(
    version="notices-2025-2026",
    years=frozenset({2025, 2026}),
    holidays=frozenset(NOTICE_2025_HOLIDAYS | NOTICE_2026_HOLIDAYS),
    workdays=frozenset(NOTICE_2025_WORKDAYS | NOTICE_2026_WORKDAYS),
)
PACKAGE = StatutoryCalendar()
CALENDARS = [pytest.param(PACKAGE, id="chinesecalendar"), pytest.param(NOTICES, id="notices")]


def cst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def wd(n: int) -> TimeLimit:
    return TimeLimit(amount=n)


def hours(n: int) -> TimeLimit:
    return TimeLimit(amount=n, unit=LimitUnit.hours)


# ---- the package agrees with the notices ------------------------------------------------------


def test_the_package_agrees_with_both_notices_on_every_day_of_2025_and_2026() -> None:
    every_day = span("2025-01-01", "2026-12-31")
    differ = [
        d for d in sorted(every_day) if PACKAGE.is_working_day(d) is not NOTICES.is_working_day(d)
    ]
    assert differ == []
    assert PACKAGE.is_working_day(date(2026, 2, 14)) is True  # adjusted working Saturday
    assert PACKAGE.is_working_day(date(2026, 10, 1)) is False  # 国庆节 on a Thursday


def test_the_package_does_not_know_2027_and_says_its_version() -> None:
    assert PACKAGE.is_working_day(date(2027, 1, 4)) is None
    assert PACKAGE.is_working_day(date(2026, 12, 31)) is True
    assert PACKAGE.version == f"chinesecalendar-{chinese_calendar.__version__}"
    assert PACKAGE.version == "chinesecalendar-1.11.0"  # pinned: a new calendar is a deliberate act


# ---- working days across 春节 and 国庆节 ---------------------------------------------------------


SPRING_2025 = cst(2025, 1, 24, 9, 0)  # Friday before 春节 2025
NATIONAL_2025 = cst(2025, 9, 26, 15, 0)  # Friday before 国庆节 2025
SPRING_2026 = cst(2026, 2, 13, 16, 0)  # Friday before 春节 2026
NATIONAL_2026 = cst(2026, 9, 18, 11, 0)  # Friday before 中秋节 and 国庆节 2026

ACROSS_HOLIDAYS = [
    # 2025 春节: 1/26 (Sun) works, 1/28-2/4 off, 2/8 (Sat) works
    (SPRING_2025, 1, cst(2025, 1, 27)),  # 1/26 adjusted Sunday
    (SPRING_2025, 2, cst(2025, 1, 28)),  # 1/27
    (SPRING_2025, 3, cst(2025, 2, 6)),  # 2/5, the first day after the holiday
    (SPRING_2025, 6, cst(2025, 2, 9)),  # 2/8 adjusted Saturday
    (SPRING_2025, 7, cst(2025, 2, 11)),  # 2/10 (2/9 Sunday off)
    # 2025 国庆节、中秋节: 9/28 (Sun) works, 10/1-10/8 off, 10/11 (Sat) works
    (NATIONAL_2025, 1, cst(2025, 9, 29)),  # 9/28 adjusted Sunday
    (NATIONAL_2025, 3, cst(2025, 10, 1)),  # 9/30: ends at 24:00 on the eve of the holiday
    (NATIONAL_2025, 4, cst(2025, 10, 10)),  # 10/9
    (NATIONAL_2025, 6, cst(2025, 10, 12)),  # 10/11 adjusted Saturday
    (NATIONAL_2025, 7, cst(2025, 10, 14)),  # 10/13
    # 2026 春节: 2/14 (Sat) works, 2/15-2/23 off, 2/28 (Sat) works
    (SPRING_2026, 1, cst(2026, 2, 15)),  # 2/14 adjusted Saturday
    (SPRING_2026, 2, cst(2026, 2, 25)),  # 2/24
    (SPRING_2026, 6, cst(2026, 3, 1)),  # 2/28 adjusted Saturday
    (SPRING_2026, 7, cst(2026, 3, 3)),  # 3/2 (3/1 Sunday off)
    # 2026 中秋节 9/25-27 and 国庆节 10/1-10/7: 9/20 (Sun) and 10/10 (Sat) work
    (NATIONAL_2026, 1, cst(2026, 9, 21)),  # 9/20 adjusted Sunday
    (NATIONAL_2026, 5, cst(2026, 9, 25)),  # 9/24
    (NATIONAL_2026, 6, cst(2026, 9, 29)),  # 9/28
    (NATIONAL_2026, 9, cst(2026, 10, 9)),  # 10/8
    (NATIONAL_2026, 11, cst(2026, 10, 11)),  # 10/10 adjusted Saturday
    (NATIONAL_2026, 15, cst(2026, 10, 16)),  # 10/15
]


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize(("start", "n", "expected"), ACROSS_HOLIDAYS)
def test_working_days_across_spring_festival_and_national_day(
    calendar: WorkingCalendar, start: datetime, n: int, expected: datetime
) -> None:
    due = due_at(start, wd(n), calendar)
    assert due.at == expected
    assert due.at.isoformat() == expected.isoformat()  # expressed in Asia/Shanghai
    assert due.provisional is False
    assert due.calendar_version == calendar.version


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (cst(2025, 10, 3, 10, 0), 1, cst(2025, 10, 10)),  # on 国庆节: 10/9 is the first
        (cst(2025, 10, 3, 10, 0), 3, cst(2025, 10, 12)),  # 10/9, 10/10, 10/11 (Sat, works)
        (cst(2026, 2, 17, 20, 0), 1, cst(2026, 2, 25)),  # on 春节: 2/24 is the first
        (cst(2025, 10, 8, 23, 59), 1, cst(2025, 10, 10)),  # last holiday evening: 10/9
    ],
)
def test_start_on_a_holiday(
    calendar: WorkingCalendar, start: datetime, n: int, expected: datetime
) -> None:
    assert due_at(start, wd(n), calendar).at == expected


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # The day of assignment never counts, even when it is a working day.
        (cst(2026, 2, 14, 10, 0), 1, cst(2026, 2, 25)),  # adjusted Saturday; next is 2/24
        (cst(2026, 2, 14, 10, 0), 5, cst(2026, 3, 1)),  # 2/24-2/27 and 2/28 (Sat, works)
        (cst(2025, 10, 11, 9, 0), 1, cst(2025, 10, 14)),  # adjusted Saturday; next is 10/13
        (cst(2025, 9, 28, 9, 0), 1, cst(2025, 9, 30)),  # adjusted Sunday; next is 9/29
    ],
)
def test_start_on_an_adjusted_working_weekend_day(
    calendar: WorkingCalendar, start: datetime, n: int, expected: datetime
) -> None:
    assert due_at(start, wd(n), calendar).at == expected


@pytest.mark.parametrize("clock", [(0, 0, 0, 0), (8, 30, 0, 0), (23, 59, 59, 999_999)])
def test_the_time_of_day_of_the_assignment_does_not_matter(
    clock: tuple[int, int, int, int],
) -> None:
    start = cst(2025, 9, 26, *clock)
    assert due_at(start, wd(1), PACKAGE).at == cst(2025, 9, 29)


# ---- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 2026-02-13 16:30 UTC is already 2/14 00:30 in Shanghai: 2/14 is the day of
        # assignment (not counted), so the first working day is 2/24, not 2/14.
        (datetime(2026, 2, 13, 16, 30, tzinfo=UTC), cst(2026, 2, 25)),
        (datetime(2026, 2, 13, 11, 30, tzinfo=NEW_YORK), cst(2026, 2, 25)),  # same instant
        # 15:59 UTC is 23:59 on 2/13 in Shanghai: 2/14 (Sat, works) is the first.
        (datetime(2026, 2, 13, 15, 59, tzinfo=UTC), cst(2026, 2, 15)),
    ],
)
def test_the_day_of_assignment_is_taken_in_asia_shanghai(
    start: datetime, expected: datetime
) -> None:
    due = due_at(start, wd(1), PACKAGE)
    assert due.at == expected
    assert due.at.isoformat() == expected.isoformat()


def test_hours_are_real_hours_even_from_a_zone_with_dst() -> None:
    # 2026-03-08 01:30 EST (UTC-5) is 06:30 UTC. New York springs forward an hour later, so
    # adding 2 h to the wall clock would give 03:30 EDT = 07:30 UTC, one real hour short.
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    due = due_at(start, hours(2), PACKAGE)
    assert due.at == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert due.at.isoformat() == "2026-03-08T16:30:00+08:00"


def test_shanghai_has_no_dst_so_every_due_is_at_utc_plus_8() -> None:
    for start in (cst(2026, 1, 5, 9), cst(2026, 7, 6, 9), cst(2026, 11, 2, 9)):
        for limit in (wd(1), hours(30)):
            assert due_at(start, limit, PACKAGE).at.utcoffset() == timedelta(hours=8)


# ---- hours (urgent cases) --------------------------------------------------------------------


def test_an_urgent_case_in_hours_crosses_midnight() -> None:
    due = due_at(cst(2026, 3, 10, 22, 30), hours(4), PACKAGE)
    assert due.at.isoformat() == "2026-03-11T02:30:00+08:00"
    assert due.provisional is False
    assert due.calendar_version == PACKAGE.version


def test_hours_run_through_holidays_and_unknown_years_alike() -> None:
    # Calendar hours: 国庆节 does not stop the clock, and 2027 is not provisional.
    assert due_at(cst(2025, 9, 30, 20, 0), hours(24), PACKAGE).at == cst(2025, 10, 1, 20, 0)
    late = due_at(cst(2026, 12, 31, 23, 0), hours(2), PACKAGE)
    assert late.at == cst(2027, 1, 1, 1, 0)
    assert late.provisional is False


def test_hours_from_utc_are_expressed_in_shanghai() -> None:
    due = due_at(datetime(2026, 5, 1, 20, 0, tzinfo=UTC), hours(2), PACKAGE)
    assert due.at.isoformat() == "2026-05-02T06:00:00+08:00"


# ---- a year the package does not know --------------------------------------------------------

# 2026-12-30 (Wed): 12/31 is known (Thursday, works); 2027 is not, so it is counted by weekends
# alone: 1/1 (Fri) works, 1/2-1/3 weekend, 1/4 (Mon) works.
YEAR_END = cst(2026, 12, 30, 10, 0)


def test_a_due_in_an_unknown_year_falls_back_to_weekends_and_is_provisional() -> None:
    due = due_at(YEAR_END, wd(3), PACKAGE)
    assert due.at == cst(2027, 1, 5)  # 12/31, 1/1, 1/4
    assert due.provisional is True
    assert due.calendar_version == "chinesecalendar-1.11.0"
    assert due_at(YEAR_END, wd(2), PACKAGE) == Due(
        at=cst(2027, 1, 2), provisional=True, calendar_version=PACKAGE.version
    )  # 12/31, 1/1 (a Friday, counted by the weekend rule): 24:00 on 1/1


def test_a_due_ending_on_the_last_known_day_is_not_provisional() -> None:
    due = due_at(YEAR_END, wd(1), PACKAGE)
    assert due.at == cst(2027, 1, 1)  # 24:00 on 12/31; no day of 2027 was counted
    assert due.provisional is False


def test_an_unknown_weekend_is_not_counted() -> None:
    # From Friday 2027-01-01: 1/2 and 1/3 are the weekend, 1/4 (Mon) is the first.
    due = due_at(cst(2027, 1, 1, 9, 0), wd(1), PACKAGE)
    assert due.at == cst(2027, 1, 5)
    assert due.provisional is True


# A calendar update, as a test table: the 2026 notice's days, plus a 2027 New Year holiday on
# 1/1-1/3 that is made up for this test (no 2027 notice is used or implied).
UPDATE = TableCalendar(
    version="test-update-2027",
    years=frozenset({2026, 2027}),
    holidays=frozenset(NOTICE_2026_HOLIDAYS | span("2027-01-01", "2027-01-03")),
    workdays=frozenset(NOTICE_2026_WORKDAYS),
)


def record(key: str, start: datetime, limit: TimeLimit, calendar: WorkingCalendar) -> RecordedDue:
    return RecordedDue(key=key, start=start, limit=limit, due=due_at(start, limit, calendar))


def test_a_calendar_update_lists_the_provisional_dues_it_would_change() -> None:
    moves = record("case-a/unit-1", YEAR_END, wd(3), PACKAGE)
    settles = record("case-b/unit-1", cst(2027, 3, 1, 9, 0), wd(2), PACKAGE)
    assert moves.due.at == cst(2027, 1, 5) and moves.due.provisional
    assert settles.due.at == cst(2027, 3, 4) and settles.due.provisional  # 3/2, 3/3

    changes = provisional_changes([moves, settles], UPDATE)

    assert changes == [
        DueChange(
            key="case-a/unit-1",
            previous=moves.due,
            # 12/31, then 1/1-1/3 off in the update, 1/4, 1/5
            revised=Due(at=cst(2027, 1, 6), provisional=False, calendar_version=UPDATE.version),
        ),
        DueChange(
            key="case-b/unit-1",
            previous=settles.due,
            revised=Due(at=cst(2027, 3, 4), provisional=False, calendar_version=UPDATE.version),
        ),
    ]
    assert [c.moved for c in changes] == [True, False]
    # Nothing was changed in place: the records still say what they said.
    assert moves.due.at == cst(2027, 1, 5) and moves.due.provisional


def test_settled_dues_are_never_revisited() -> None:
    # A calendar that ignores every holiday would move this due; it is not provisional, so it
    # stands and is not listed.
    settled = record("case-c/unit-1", NATIONAL_2026, wd(15), PACKAGE)
    assert settled.due.at == cst(2026, 10, 16) and not settled.due.provisional
    weekends_only = TableCalendar(version="weekends-only", years=frozenset({2026, 2027}))
    assert due_at(NATIONAL_2026, wd(15), weekends_only).at != settled.due.at
    provisional = record("case-a/unit-1", YEAR_END, wd(3), PACKAGE)

    changes = provisional_changes([settled, provisional], weekends_only)

    assert [c.key for c in changes] == ["case-a/unit-1"]
    assert changes[0].revised.at == cst(2027, 1, 5)  # same time, now settled
    assert changes[0].moved is False


def test_dues_a_newer_calendar_still_cannot_settle_are_not_listed() -> None:
    still = record("case-d/unit-1", cst(2028, 1, 3, 9, 0), wd(2), PACKAGE)
    assert still.due.provisional
    assert provisional_changes([still], UPDATE) == []
    assert provisional_changes([record("x", YEAR_END, wd(3), PACKAGE)], PACKAGE) == []


def test_changes_keep_the_order_given() -> None:
    a = record("a", YEAR_END, wd(3), PACKAGE)
    b = record("b", cst(2027, 3, 1, 9, 0), wd(2), PACKAGE)
    assert [c.key for c in provisional_changes([b, a], UPDATE)] == ["b", "a"]


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1, True, 1.5, "3"])
@pytest.mark.parametrize("unit", ["working_days", "hours"])
def test_a_limit_needs_a_positive_whole_amount(amount: object, unit: str) -> None:
    with pytest.raises(ValidationError):
        TimeLimit(amount=amount, unit=unit)  # type: ignore[arg-type]


def test_the_largest_and_smallest_limits_are_accepted() -> None:
    assert TimeLimit(amount=MAX_AMOUNT).amount == MAX_AMOUNT
    assert due_at(cst(2026, 3, 10, 9), TimeLimit(amount=1, unit="hours"), PACKAGE).at == cst(
        2026, 3, 10, 10
    )


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValidationError):
        TimeLimit(amount=3, unit="days")  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [wd(1), hours(1)])
def test_a_naive_start_is_refused_without_echoing_it(limit: TimeLimit) -> None:
    with pytest.raises(NaiveStartError, match="timezone-aware") as err:
        due_at(datetime(2026, 3, 10, 9, 17), limit, PACKAGE)
    assert isinstance(err.value, ValueError)
    assert "2026" not in str(err.value) and "17" not in str(err.value)


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_tzinfo_without_an_offset_is_naive() -> None:
    with pytest.raises(NaiveStartError):
        due_at(datetime(2026, 3, 10, 9, tzinfo=_NoOffset()), wd(1), PACKAGE)


def test_a_date_is_not_a_start_time() -> None:
    with pytest.raises(TypeError, match="datetime"):
        due_at(date(2026, 3, 10), wd(1), PACKAGE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"version": ""},
        {"version": "v" * 41},
        {"holidays": frozenset(days("2026-10-01")), "workdays": frozenset(days("2026-10-01"))},
        {"holidays": frozenset(days("2028-01-01"))},
        {"workdays": frozenset(days("2025-12-27"))},
    ],
)
def test_a_bad_table_is_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"version": "t", "years": frozenset({2026})} | kwargs
    with pytest.raises(ValueError):
        TableCalendar(**fields)  # type: ignore[arg-type]


def test_a_table_version_of_forty_characters_is_accepted() -> None:
    table = TableCalendar(version="v" * 40, years=frozenset({2026}))
    assert due_at(cst(2026, 3, 10, 9), wd(1), table).calendar_version == "v" * 40


@pytest.mark.parametrize(
    "fields",
    [
        {"calendar_version": ""},
        {"calendar_version": "v" * 41},  # dispatch.assigned holds 40
        {"at": datetime(2026, 3, 11, 0, 0)},  # naive
    ],
)
def test_a_due_is_aware_and_names_a_version_that_fits_the_event(fields: dict[str, object]) -> None:
    good: dict[str, object] = {
        "at": cst(2026, 3, 11),
        "provisional": False,
        "calendar_version": "v",
    }
    assert Due(**good).calendar_version == "v"  # type: ignore[arg-type]
    assert Due(**{**good, "calendar_version": "v" * 40}).calendar_version == "v" * 40  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Due(**{**good, **fields})  # type: ignore[arg-type]


def test_a_recorded_due_has_a_key_of_1_to_200_characters() -> None:
    kept = record("k" * 200, YEAR_END, wd(3), PACKAGE)
    assert len(kept.key) == 200
    for key in ("", "k" * 201):
        with pytest.raises(ValidationError):
            RecordedDue(key=key, start=kept.start, limit=kept.limit, due=kept.due)


def test_a_due_is_held_in_shanghai_and_fits_the_assignment_event() -> None:
    from shared.events.catalog import DispatchAssigned, Urgency

    parsed = Due(at=datetime(2027, 1, 4, 16, 0, tzinfo=UTC), provisional=True, calendar_version="v")
    assert parsed.at.isoformat() == "2027-01-05T00:00:00+08:00"
    due = due_at(YEAR_END, wd(3), PACKAGE)
    again = Due.model_validate_json(due.model_dump_json())
    assert again == due and again.at.isoformat() == due.at.isoformat()
    event = DispatchAssigned(
        lead_unit="unit:a",
        due_at=due.at.isoformat(),
        calendar_version=due.calendar_version,
        urgency=Urgency.normal,
        direct=True,
    )
    assert event.due_at == "2027-01-05T00:00:00+08:00"
