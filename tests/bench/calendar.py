"""Due times per second: ``due_at`` over 15 working days on the statutory calendar.

Baseline: the package's own loop, the raw limit of asking it day by day — from the day of
assignment in Asia/Shanghai, ``chinese_calendar.is_workday`` on each following day until 15
working days are found — over the same starts, in the same run. Both answers are compared
start by start, so the row also proves the two agree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from shared.calendar import SHANGHAI, StatutoryCalendar, TimeLimit, due_at
from tests.bench.common import Stopwatch, median

WORKING_DAYS = 15
FIRST = datetime(2025, 1, 1, 9, 0, tzinfo=SHANGHAI)
SPREAD = timedelta(days=690)  # starts over 2025-2026, every due inside the package's years


def _raw(start: datetime) -> date:
    day, counted = start.astimezone(SHANGHAI).date(), 0
    while counted < WORKING_DAYS:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            counted += 1
    return day


def run(count: int, repeat: int) -> dict[str, float | int | bool | str]:
    starts = [FIRST + SPREAD * i / count for i in range(count)]
    limit = TimeLimit(amount=WORKING_DAYS)
    calendar = StatutoryCalendar()
    ours, raw = [], []
    dues, ends = [], []
    for _ in range(repeat):
        with Stopwatch() as sw:
            dues = [due_at(s, limit, calendar) for s in starts]
        ours.append(sw.timing.per_core(count))
        with Stopwatch() as sw:
            ends = [_raw(s) for s in starts]
        raw.append(sw.timing.per_core(count))
    # Due.at is 24:00 of the last working day, i.e. 00:00 of the day after it.
    agree = all(d.at.date() == e + timedelta(days=1) for d, e in zip(dues, ends, strict=True))
    return {
        "ours": median(ours),
        "raw": median(raw),
        "dues": count,
        "working_days": WORKING_DAYS,
        "agree": agree,
        "provisional": sum(d.provisional for d in dues),
        "calendar_version": calendar.version,
    }
