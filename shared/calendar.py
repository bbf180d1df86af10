"""Due times for time limits (限时办结): working days on China's statutory calendar, or hours.

Pure: nothing here reads the clock, a file or the network. An assignment computes each unit's
absolute due time once, records it with the calendar's version, and replay reads the record;
nothing recomputes a recorded due time.

**What "N working days from an assignment at time T" means.** Let D be T's date in
Asia/Shanghai. Day D itself never counts, whatever time of day T is and whether D is a working
day or not; counting starts on the day after D, and the limit ends at 24:00 (Asia/Shanghai)
of the Nth working day after D. ``Due.at`` is that instant, written as 00:00 of the following
calendar day: the first instant that is late (half-open: an act at ``t < at`` is in time).

Why this and not "the same clock time on the Nth working day":

- It is how Chinese law counts periods. The Civil Code (民法典) art. 201: a period counted in
  days excludes the day it starts on and runs from the next day; art. 203: when the last day
  is a statutory rest day, the period ends on the first day after it, and the last day ends
  at 24:00. Periods in working days (e.g. the Administrative Licensing Law, art. 82) skip
  statutory holidays the same way. Officers and units already read limits like this.
- It treats every assignment of one day alike: a case assigned at 17:55 does not get a
  shorter day than one assigned at 08:30, and a case assigned on a Sunday or during 国庆节
  gets full working days, not a deadline that lands mid-holiday at the assignment's clock time.
- It is unambiguous for a start on a rest day (there is no "same clock time" to carry).

A working day is the statutory calendar's: Monday to Friday unless a State Council holiday
notice gives the day off, plus the weekend days the notice makes working days (调休).

**Hours** (urgent cases) are calendar hours of elapsed time: nights, weekends and holidays all
count, and the arithmetic is done on absolute time (UTC), so a start given in a zone with
daylight saving time still gets exactly N real hours. Asia/Shanghai has had no DST since 1991;
results are always expressed in it.

**Years the calendar does not know.** The State Council publishes each year's notice late in
the year before, and the package follows some days or weeks later. A day whose year the
calendar has no data for is counted by weekends alone (Monday to Friday work), and the due is
marked ``provisional``. When a newer calendar arrives, ``provisional_changes`` lists what it
would change; an officer confirms each one (a new event). Nothing is changed silently, and a
due that was not provisional is never revisited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_AMOUNT = 1000  # far beyond any real limit; stops a mistyped limit from walking for ever
VERSION_MAX = 40  # what dispatch.assigned.calendar_version holds

_DAY = timedelta(days=1)


class NaiveStartError(ValueError):
    """A start time without a time zone: its instant, and so its day, would be a guess."""


class LimitUnit(StrEnum):
    working_days = "working_days"
    hours = "hours"


class TimeLimit(BaseModel):
    """A time limit as configured: so many working days, or so many hours (urgent cases)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT)]
    unit: LimitUnit = LimitUnit.working_days


def _in_shanghai(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)


class Due(BaseModel):
    """An absolute due time, what it was computed with, and whether it may still move."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Annotated[AwareDatetime, AfterValidator(_in_shanghai)] = Field(
        description="first late instant, in Asia/Shanghai"
    )
    provisional: bool = Field(description="a counted day's year was unknown to the calendar")
    calendar_version: Annotated[str, Field(min_length=1, max_length=VERSION_MAX)]


class WorkingCalendar(Protocol):
    """Which days are working days, as far as one version of a calendar knows."""

    @property
    def version(self) -> str:
        """Names the source and its version, e.g. ``chinesecalendar-1.11.0``."""
        ...

    def is_working_day(self, day: date) -> bool | None:
        """True or False for a day the calendar has data for; None for a year it does not know."""
        ...


def due_at(start: datetime, limit: TimeLimit, calendar: WorkingCalendar) -> Due:
    """The due time of ``limit`` for an assignment at ``start`` (see the module docstring).

    ``start`` must be timezone-aware (any zone; it is converted). For hours the calendar is
    not consulted, the due is never provisional, and ``calendar_version`` still names the
    calendar in force so that every assignment records one.
    """
    if not isinstance(start, datetime):
        raise TypeError("start must be a datetime")
    if start.tzinfo is None or start.utcoffset() is None:
        raise NaiveStartError("start must be timezone-aware (naive datetimes are refused)")
    if limit.unit is LimitUnit.hours:
        at = (start.astimezone(UTC) + timedelta(hours=limit.amount)).astimezone(SHANGHAI)
        return Due(at=at, provisional=False, calendar_version=calendar.version)
    day = start.astimezone(SHANGHAI).date()
    counted, provisional = 0, False
    while counted < limit.amount:
        day += _DAY
        working = calendar.is_working_day(day)
        if working is None:
            provisional = True
            working = _monday_to_friday(day)
        if working:
            counted += 1
    at = datetime.combine(day + _DAY, time(0), tzinfo=SHANGHAI)
    return Due(at=at, provisional=provisional, calendar_version=calendar.version)


def _monday_to_friday(day: date) -> bool:
    return day.weekday() < 5


# ---- calendars --------------------------------------------------------------------------------


class StatutoryCalendar:
    """The State Council's holiday notices as the ``chinesecalendar`` package ships them.

    The package decides every day (its ``get_workdays``, which applies its ``is_workday``);
    its answers are kept per year, asked once, so a due costs a few set look-ups. A year the
    package raises ``NotImplementedError`` for is a year it does not know.
    """

    def __init__(self) -> None:
        import chinese_calendar

        self._package = chinese_calendar
        self._version = f"chinesecalendar-{chinese_calendar.__version__}"
        self._years: dict[int, frozenset[date] | None] = {}

    @property
    def version(self) -> str:
        return self._version

    def is_working_day(self, day: date) -> bool | None:
        if day.year not in self._years:
            self._years[day.year] = self._working_days_of(day.year)
        working_days = self._years[day.year]
        return None if working_days is None else day in working_days

    def _working_days_of(self, year: int) -> frozenset[date] | None:
        try:
            days = self._package.get_workdays(date(year, 1, 1), date(year, 12, 31))
        except NotImplementedError:
            return None
        return frozenset(days)


@dataclass(frozen=True)
class TableCalendar:
    """A calendar given as a table: the years it knows, their holidays and adjusted work days.

    For tests, and for a notice the package has not shipped yet (typed in from the State
    Council's notice and reviewed like any configuration). Within ``years``: Monday to Friday
    work unless listed in ``holidays``; a day in ``workdays`` works whatever its weekday.
    """

    version: str
    years: frozenset[int]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not 0 < len(self.version) <= VERSION_MAX:
            raise ValueError(f"a calendar version has 1 to {VERSION_MAX} characters")
        if self.holidays & self.workdays:
            raise ValueError("a day cannot be both a holiday and an adjusted working day")
        if any(d.year not in self.years for d in self.holidays | self.workdays):
            raise ValueError("every listed day must fall in one of the table's years")

    def is_working_day(self, day: date) -> bool | None:
        if day.year not in self.years:
            return None
        return day in self.workdays or (_monday_to_friday(day) and day not in self.holidays)


@dataclass(frozen=True)
class OverlayCalendar:
    """A table laid over another calendar: the table answers for the years it knows, the base
    for the rest. How a notice the package has not shipped yet (or a test's table) extends the
    package: ``OverlayCalendar("chinesecalendar-1.11.0-cn2027", StatutoryCalendar(), table)``."""

    version: str
    base: WorkingCalendar
    table: TableCalendar

    def __post_init__(self) -> None:
        if not 0 < len(self.version) <= VERSION_MAX:
            raise ValueError(f"a calendar version has 1 to {VERSION_MAX} characters")

    def is_working_day(self, day: date) -> bool | None:
        if day.year in self.table.years:
            return self.table.is_working_day(day)
        return self.base.is_working_day(day)


# ---- a newer calendar -------------------------------------------------------------------------


class RecordedDue(BaseModel):
    """A due as an assignment recorded it, with what it was computed from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(min_length=1, max_length=200)]  # e.g. assignment id and unit
    start: AwareDatetime
    limit: TimeLimit
    due: Due


class DueChange(BaseModel):
    """What a newer calendar would make of a provisional due, for an officer to confirm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    previous: Due
    revised: Due

    @property
    def moved(self) -> bool:
        """The due time itself changes (not only its provisional mark)."""
        return self.revised.at != self.previous.at


def provisional_changes(records: Iterable[RecordedDue], newer: WorkingCalendar) -> list[DueChange]:
    """The provisional dues that ``newer`` would change, in the order given.

    A provisional due is listed when, recomputed from its start and limit, its time moves or
    it is no longer provisional (``moved`` tells which). One that ``newer`` still cannot settle,
    unmoved, is left out, and so is every due that was not provisional: a settled due stands.
    The list is a proposal; nothing is changed here.
    """
    changes: list[DueChange] = []
    for record in records:
        if not record.due.provisional:
            continue
        revised = due_at(record.start, record.limit, newer)
        if revised.at != record.due.at or revised.provisional != record.due.provisional:
            changes.append(DueChange(key=record.key, previous=record.due, revised=revised))
    return changes
