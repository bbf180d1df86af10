"""Reporting periods: a month (``2026-11``) or a quarter (``2026-Q4``), bounded in
Asia/Shanghai, half-open: from the first instant of the period up to, not including, the first
instant of the next. Instants are µs since the epoch, as the log stamps them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")


class Period(NamedTuple):
    id: str
    start: int  # µs, included
    end: int  # µs, excluded

    def holds(self, t: int) -> bool:
        return self.start <= t < self.end


def _micros(year: int, month: int) -> int:
    if month > 12:
        year, month = year + 1, month - 12
    return int(datetime(year, month, 1, tzinfo=SHANGHAI).timestamp()) * 1_000_000


def period(period_id: str) -> Period:
    """The period a ``YYYY-MM`` or ``YYYY-Qn`` names; ValueError for anything else."""
    m = _PERIOD.match(period_id)
    if m is None:
        raise ValueError("a period is YYYY-MM or YYYY-Qn")
    year = int(m.group(1))
    if m.group(2):
        first, months = int(m.group(2)), 1
    else:
        first, months = 3 * int(m.group(3)) - 2, 3
    return Period(period_id, _micros(year, first), _micros(year, first + months))


def month_of(t: int) -> str:
    """The month (``YYYY-MM``) holding instant ``t`` in Asia/Shanghai."""
    d = datetime.fromtimestamp(t / 1_000_000, SHANGHAI)
    return f"{d.year:04d}-{d.month:02d}"


def quarter_of(t: int) -> str:
    d = datetime.fromtimestamp(t / 1_000_000, SHANGHAI)
    return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"


def ended_before(t: int, first: str) -> list[str]:
    """Every month from ``first`` on, and every quarter ending after ``first`` begins, that has
    ended by ``t``, in the order of their ends (a quarter after its third month)."""
    out: list[str] = []
    y, mo = int(first[:4]), (int(first[5:]) if "Q" not in first else 3 * int(first[6]) - 2)
    while True:
        month = period(f"{y:04d}-{mo:02d}")
        if month.end > t:
            break
        out.append(month.id)
        if mo % 3 == 0:
            out.append(f"{y:04d}-Q{mo // 3}")
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out
