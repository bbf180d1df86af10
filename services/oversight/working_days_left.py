"""How many working days a unit has left before its due time, as the workbench counts down.

A due time is the first late instant (00:00 of the day after the limit's last day, see
``shared/calendar.py``), so the limit's last day is the day before it. The days left are the
working days from today (Asia/Shanghai) to that last day, both included: on the last day, if it
is a working day, one is left (today). From the due time on, none are left (the case is late).
A day whose year the calendar does not know counts Monday to Friday, as due times do. Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.calendar import SHANGHAI, WorkingCalendar

_DAY = timedelta(days=1)
_MAX_DAYS = 3660  # a due time ten years on is counted no further


def working_days_left(now: datetime, due: datetime, calendar: WorkingCalendar) -> int:
    if now >= due:
        return 0
    day = now.astimezone(SHANGHAI).date()
    last = (due.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
    left = 0
    for _ in range(_MAX_DAYS):
        if day > last:
            break
        working = calendar.is_working_day(day)
        if working if working is not None else day.weekday() < 5:
            left += 1
        day += _DAY
    return left
