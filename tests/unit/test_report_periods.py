"""Reporting periods: months and quarters bounded in Asia/Shanghai, half-open."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.reports.periods import SHANGHAI, ended_before, month_of, period, quarter_of


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()) * 1_000_000


def test_a_month_and_a_quarter_are_bounded_in_shanghai() -> None:
    november = period("2026-11")
    assert (november.start, november.end) == (us("2026-11-01T00:00"), us("2026-12-01T00:00"))
    q4 = period("2026-Q4")
    assert (q4.start, q4.end) == (us("2026-10-01T00:00"), us("2027-01-01T00:00"))
    assert period("2026-Q1").start == us("2026-01-01T00:00")
    # 16:00 UTC on 30 November is already 1 December in Shanghai
    assert not november.holds(us("2026-12-01T00:00"))
    assert november.holds(us("2026-11-30T23:59:59"))
    assert month_of(us("2026-12-01T00:00")) == "2026-12"
    assert quarter_of(us("2026-12-31T23:59")) == "2026-Q4"


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "2026-1", "26-11", "2026-11 "])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        period(bad)


def test_the_ended_periods_come_in_the_order_they_end() -> None:
    assert ended_before(us("2027-01-01T00:00"), "2026-11") == ["2026-11", "2026-12", "2026-Q4"]
    assert ended_before(us("2026-12-31T23:59"), "2026-11") == ["2026-11"]
    assert ended_before(us("2026-11-30T00:00"), "2026-11") == []
