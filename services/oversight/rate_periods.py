"""Which periods the rates pages answer for: a month (``2026-11``) or a quarter (``2026-Q4``)
that has begun by now (a period still to come has no figures: not found), and the last twelve
months of a unit's charts (pure)."""

from __future__ import annotations

import re

from shared.reports.periods import Period, month_of, period

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"
CHART_MONTHS = 12


class UnknownPeriod(LookupError):
    """A well-formed period that has not begun yet, or lies outside the calendar."""


def requested_period(text: str, now: int) -> Period:
    """The period ``text`` names, begun by ``now`` (µs). ValueError when it is malformed,
    UnknownPeriod when it has not begun or lies outside the calendar (year 0000, or a period
    ending after 9999)."""
    if re.fullmatch(PERIOD_PATTERN, text) is None:
        raise ValueError("a period is YYYY-MM or YYYY-Qn")
    try:
        p = period(text)
    except ValueError:
        raise UnknownPeriod(text) from None
    if p.start > now:
        raise UnknownPeriod(text)
    return p


def last_months(now: int, count: int = CHART_MONTHS) -> list[Period]:
    """The ``count`` months up to and including the one holding ``now``, oldest first."""
    current = month_of(now)
    year, month = int(current[:4]), int(current[5:])
    out: list[Period] = []
    for _ in range(count):
        out.append(period(f"{year:04d}-{month:02d}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]
