"""The rates on a hand-written history: every expected numerator and denominator below is
worked out by hand from the definitions (shared/reports/rates.py, README "Rates")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shared.events.catalog import payload_model
from shared.reports.periods import SHANGHAI, period
from shared.reports.rates import FIGURES, Fact, RatesFold, period_figures

A = "case-00000000-0000-4000-8000-00000000000a"
B = "case-00000000-0000-4000-8000-00000000000b"
C = "case-00000000-0000-4000-8000-00000000000c"
D = "case-00000000-0000-4000-8000-00000000000d"
H, M, T = "unit:health-bureau", "unit:market-regulation", "unit:transport-bureau"


def at(text: str) -> str:
    return f"2026-{text}:00+08:00"


def us(text: str) -> int:
    return int(datetime.fromisoformat(at(text)).astimezone(SHANGHAI).timestamp()) * 1_000_000


def fact(stream: str, when: str, short_type: str, eid: str, **data: Any) -> Fact:
    event_type = f"ledger.{short_type}.v1"
    model = payload_model(event_type)
    assert model is not None
    return Fact(stream, us(when), eid, event_type, model.model_validate(data).model_dump())


def assigned(lead: str, due: str, co: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "lead_unit": lead,
        "due_at": at(due),
        "co_units": [{"unit": u, "due_at": at(d)} for u, d in (co or {}).items()],
        "calendar_version": "cal-1",
        "urgency": "normal",
        "direct": True,
    }


HISTORY = [
    # C spans two periods: assigned and replied in October, due in November, closed in December.
    fact(C, "10-28T09:00", "dispatch.assigned", "c1", **assigned(M, "11-03T09:00")),
    fact(C, "10-30T09:00", "handling.replied", "c2", unit=M, text="答复"),
    # A: a lead and a co-unit, each on its own due time.
    fact(
        A,
        "11-01T09:00",
        "dispatch.assigned",
        "a1",
        **assigned(H, "11-10T10:00", {M: "11-05T10:00"}),
    ),
    # D: passed around (踢皮球): T returns it, M returns it, T gets it again.
    fact(D, "11-01T10:00", "dispatch.assigned", "d1", **assigned(T, "11-20T10:00")),
    fact(B, "11-01T11:00", "dispatch.assigned", "b1", **assigned(H, "11-12T10:00")),
    fact(C, "11-02T09:00", "handling.resolution_claimed", "c3", unit=M, summary="已办结"),
    fact(D, "11-02T10:00", "dispatch.return_ruled", "d2", unit=T, granted=True, ruling="同意"),
    fact(A, "11-03T09:00", "handling.replied", "a2", unit=H, text="答复"),
    fact(D, "11-03T10:00", "dispatch.assigned", "d3", **assigned(M, "11-18T10:00")),
    fact(D, "11-03T11:00", "dispatch.return_ruled", "d4", unit=M, granted=True, ruling="同意"),
    fact(D, "11-03T12:00", "dispatch.assigned", "d5", **assigned(T, "11-21T10:00")),
    fact(
        D,
        "11-04T10:00",
        "dispatch.buck_passing_flagged",
        "d6",
        pattern="cycle",
        units=[T, M, T],
        cause="d5",
    ),
    # A's co-unit lets its time pass: deemed done (超时默认), then replies late.
    fact(
        A, "11-05T11:00", "dispatch.deemed_done", "a3", unit=M, due_at=at("11-05T10:00"), cause="x"
    ),
    fact(A, "11-06T09:00", "handling.replied", "a4", unit=M, text="迟复"),
    # A's lead gets an extension into December: its item leaves November's cohort.
    fact(
        A,
        "11-08T09:00",
        "handling.extension_ruled",
        "a5",
        unit=H,
        granted=True,
        due_at=at("12-03T10:00"),
        ruling="准予",
    ),
    fact(B, "11-11T09:00", "handling.replied", "b2", unit=H, text="答复"),
    fact(B, "11-11T12:00", "handling.resolution_claimed", "b3", unit=H, summary="已办结"),
    fact(B, "11-13T09:00", "complainant.disputed", "b4", complaint_no="N-B", reason="未解决"),
    # B is reopened: a new item for H with its own due time, missed by the claim.
    fact(
        B,
        "11-14T09:00",
        "handling.reopened",
        "b5",
        reason="重办",
        units=[{"unit": H, "due_at": at("11-25T10:00")}],
    ),
    fact(A, "11-20T09:00", "handling.resolution_claimed", "a6", unit=H, summary="已办结"),
    fact(A, "11-22T09:00", "complainant.confirmed", "a7", complaint_no="N-A"),
    fact(A, "11-23T09:00", "complainant.satisfaction_rated", "a8", complaint_no="N-A", rating=5),
    fact(B, "11-26T09:00", "handling.resolution_claimed", "b6", unit=H, summary="已办结"),
    fact(B, "11-27T09:00", "complainant.confirmed", "b7", complaint_no="N-B"),
    fact(B, "11-28T09:00", "complainant.satisfaction_rated", "b8", complaint_no="N-B", rating=2),
    fact(
        C,
        "12-02T09:00",
        "handling.closed",
        "c4",
        basis="anonymous",
        finding="substantiated",
        confidential=False,
    ),
]


def row(**figures: tuple[int, int]) -> dict[str, tuple[int, int]]:
    assert set(figures) == set(FIGURES)
    return dict(sorted(figures.items()))


NOVEMBER = {
    # cohort B (first item, due 11-12) and B (reopened item, due 11-25); A's item moved away
    H: row(
        reply=(1, 2),
        resolution=(1, 2),
        overdue=(1, 2),
        deemed_done=(0, 2),
        reopened=(1, 2),
        buck_passing=(0, 2),
        satisfaction=(1, 2),
    ),
    # cohort A (co-unit, due 11-05) and C (due 11-03); C's closure comes after November
    M: row(
        reply=(1, 2),
        resolution=(0, 2),
        overdue=(1, 2),
        deemed_done=(1, 2),
        reopened=(0, 2),
        buck_passing=(0, 2),
        satisfaction=(1, 1),
    ),
    # cohort D's third assignment; the released first one is not counted
    T: row(
        reply=(0, 1),
        resolution=(0, 1),
        overdue=(1, 1),
        deemed_done=(0, 1),
        reopened=(0, 1),
        buck_passing=(1, 1),
        satisfaction=(0, 0),
    ),
}
DECEMBER = {
    H: row(
        reply=(1, 1),
        resolution=(1, 1),
        overdue=(0, 1),
        deemed_done=(0, 1),
        reopened=(0, 1),
        buck_passing=(0, 1),
        satisfaction=(0, 0),
    ),
}
Q4 = {
    H: row(
        reply=(2, 3),
        resolution=(2, 3),
        overdue=(1, 3),
        deemed_done=(0, 3),
        reopened=(1, 3),
        buck_passing=(0, 3),
        satisfaction=(1, 2),
    ),
    # the quarter ends after C's closure: resolved by the period's end
    M: row(
        reply=(1, 2),
        resolution=(1, 2),
        overdue=(1, 2),
        deemed_done=(1, 2),
        reopened=(0, 2),
        buck_passing=(0, 2),
        satisfaction=(1, 1),
    ),
    T: NOVEMBER[T],
}


@pytest.mark.parametrize(
    ("period_id", "expected"),
    [("2026-11", NOVEMBER), ("2026-12", DECEMBER), ("2026-Q4", Q4), ("2026-10", {})],
)
def test_the_hand_worked_figures(period_id: str, expected: dict[str, Any]) -> None:
    assert period_figures(HISTORY, period(period_id)) == expected


def test_events_after_the_period_end_change_nothing() -> None:
    later = fact(B, "12-01T09:00", "handling.reopened", "b9", reason="重办",
                 units=[{"unit": H, "due_at": at("11-29T10:00")}])  # fmt: skip
    assert period_figures([*HISTORY, later], period("2026-11")) == NOVEMBER


def test_every_drill_down_re_derives_its_figure() -> None:
    for period_id in ("2026-11", "2026-12", "2026-Q4"):
        fold = RatesFold(period(period_id)).feed_all(HISTORY)
        for unit, figures in fold.figures().items():
            for figure, (num, den) in figures.items():
                evidence = fold.drill_down(unit, figure)
                assert (len(evidence.numerator), len(evidence.denominator)) == (num, den)
                assert set(evidence.numerator) <= set(evidence.denominator) or figure != "overdue"


def test_the_drill_down_names_the_events() -> None:
    fold = RatesFold(period("2026-11")).feed_all(HISTORY)
    h = {f: fold.drill_down(H, f) for f in FIGURES}
    assert [e.event for e in h["reply"].numerator] == ["b2"]
    assert sorted(e.event for e in h["reply"].denominator) == ["b1", "b5"]
    assert [e.event for e in h["resolution"].numerator] == ["b7"]
    assert [e.event for e in h["reopened"].numerator] == ["b5"]
    assert [(e.event, e.round) for e in h["overdue"].numerator] == [("b5", 2)]
    assert sorted(e.event for e in h["satisfaction"].denominator) == ["a8", "b8"]
    assert [e.event for e in fold.drill_down(M, "deemed_done").numerator] == ["a3"]
    assert [e.event for e in fold.drill_down(T, "buck_passing").numerator] == ["d6"]
