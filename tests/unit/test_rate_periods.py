"""The periods the rates pages answer for: months and quarters that have begun (Asia/Shanghai
bounds), malformed ones refused, and the last twelve months of a unit's charts."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import pytest

from services.oversight.rate_periods import (
    PERIOD_PATTERN,
    UnknownPeriod,
    last_months,
    requested_period,
)
from shared.reports.periods import SHANGHAI


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()) * 1_000_000


NOW = us("2026-12-02T21:00:00")


def test_a_month_and_a_quarter_have_shanghai_bounds() -> None:
    nov = requested_period("2026-11", NOW)
    assert (nov.start, nov.end) == (us("2026-11-01T00:00:00"), us("2026-12-01T00:00:00"))
    q4 = requested_period("2026-Q4", NOW)
    assert (q4.start, q4.end) == (us("2026-10-01T00:00:00"), us("2027-01-01T00:00:00"))
    assert requested_period("2026-12", NOW).start <= NOW  # the current month: begun


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "2026-Q5",
        "2026-Q0",
        "26-11",
        "2026-1",
        "2026-11-01",
        "2026/11",
        "",
        "2026-q4",
        " 2026-11",
    ],
)
def test_malformed_periods_are_refused(text: str) -> None:
    assert re.match(PERIOD_PATTERN, text) is None
    with pytest.raises(ValueError):
        requested_period(text, NOW)


@pytest.mark.parametrize("text", ["2027-01", "2027-Q1", "2099-06", "0000-01", "9999-12", "9999-Q4"])
def test_a_period_not_begun_is_unknown(text: str) -> None:
    assert re.match(PERIOD_PATTERN, text)
    with pytest.raises(UnknownPeriod):
        requested_period(text, NOW)


def test_the_last_twelve_months_end_with_the_current_one() -> None:
    months = last_months(NOW)
    assert [m.id for m in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    early = last_months(us("2026-01-01T00:30:00"), 3)  # still December in UTC
    assert [m.id for m in early] == ["2025-11", "2025-12", "2026-01"]
    assert all(a.end == b.start for a, b in itertools.pairwise(early))
