"""What an upheld appeal does to the rates, worked by hand, in the independent fold and in the
live read model alike: a waived deemed done is neither deemed done nor overdue; a waived reopen
takes its round out of the unit's cohort and the round before it is no longer reopened; a
waived flag no longer counts (another flag naming the unit still does); a ruling after the
period's end corrects that period; a rejected ruling and another unit's appeal change nothing."""

from __future__ import annotations

from services.oversight.rates_projection import figures_of
from shared.reports.periods import period
from shared.reports.rates import Fact, RatesFold, period_figures
from tests.unit.test_rates_fixture import assigned, fact
from tests.unit.test_rates_projection import project

CASE = "case-00000000-0000-4000-8000-0000000000a1"
LEAD, CO = "unit:health-bureau", "unit:market-regulation"
NOV = period("2026-11")


def ruled(when: str, eid: str, target: str, unit: str, outcome: str = "upheld") -> Fact:
    return fact(
        CASE,
        when,
        "appeal.ruled",
        eid,
        appeal_id=f"appeal-{eid}",
        outcome=outcome,
        reason="经复核",
        target="deemed_done",
        target_event=target,
        unit=unit,
    )


def both(facts: list[Fact]) -> dict[str, dict[str, tuple[int, int]]]:
    """The November figures, checked to be the same from the fold and the read model."""
    ours = period_figures(facts, NOV)
    assert figures_of(project(facts).values(), NOV.start, NOV.end) == ours
    return ours


# The co-unit is deemed done (超时默认) on 11-06; the complainant disputes and the case is
# reopened on 11-12 for both units (due 11-20); dispatch flags it twice naming the co-unit.
HISTORY = [
    fact(
        CASE,
        "11-01T09:00",
        "dispatch.assigned",
        "e1",
        **assigned(LEAD, "11-10T10:00", {CO: "11-05T10:00"}),
    ),
    fact(
        CASE,
        "11-06T09:00",
        "dispatch.deemed_done",
        "e2",
        unit=CO,
        due_at="2026-11-05T10:00:00+08:00",
        cause="t1",
    ),
    fact(CASE, "11-09T09:00", "handling.resolution_claimed", "e3", unit=LEAD, summary="办结"),
    fact(
        CASE,
        "11-12T09:00",
        "handling.reopened",
        "e4",
        reason="不满意",
        units=[
            {"unit": LEAD, "due_at": "2026-11-20T10:00:00+08:00"},
            {"unit": CO, "due_at": "2026-11-20T10:00:00+08:00"},
        ],
    ),
    fact(
        CASE,
        "11-13T09:00",
        "dispatch.buck_passing_flagged",
        "e5",
        pattern="returned_twice",
        units=[CO],
        cause="c",
    ),
    fact(
        CASE,
        "11-14T09:00",
        "dispatch.buck_passing_flagged",
        "e6",
        pattern="cycle",
        units=[CO, LEAD, CO],
        cause="c",
    ),
]


def test_the_history_without_appeals() -> None:
    figures = both(HISTORY)
    # CO: its first item (deemed done, overdue, reopened, flagged) and its reopened item
    # (overdue: no claim by 11-20, flagged).
    assert figures[CO]["deemed_done"] == (1, 2)
    assert figures[CO]["overdue"] == (2, 2)
    assert figures[CO]["reopened"] == (1, 2)
    assert figures[CO]["buck_passing"] == (2, 2)
    assert figures[LEAD]["reopened"] == (1, 2)


def test_a_waived_deemed_done_is_neither_deemed_done_nor_overdue() -> None:
    figures = both([*HISTORY, ruled("11-15T09:00", "r1", "e2", CO)])
    assert figures[CO]["deemed_done"] == (0, 2)
    assert figures[CO]["overdue"] == (1, 2)  # the reopened item still made no claim
    assert figures[CO]["resolution"] == (0, 2)  # a deemed-done item was never resolved


def test_a_waived_reopen_takes_its_round_out_and_the_round_before_is_not_reopened() -> None:
    figures = both([*HISTORY, ruled("11-15T09:00", "r1", "e4", CO)])
    assert figures[CO]["reopened"] == (0, 1)
    assert figures[CO]["deemed_done"] == (1, 1)
    assert figures[LEAD]["reopened"] == (1, 2)  # only the unit that appealed


def test_a_waived_flag_no_longer_counts_but_another_flag_still_does() -> None:
    one = both([*HISTORY, ruled("11-15T09:00", "r1", "e5", CO)])
    assert one[CO]["buck_passing"] == (2, 2)  # e6 names CO too
    two = both(
        [*HISTORY, ruled("11-15T09:00", "r1", "e5", CO), ruled("11-16T09:00", "r2", "e6", CO)]
    )
    assert two[CO]["buck_passing"] == (0, 2)
    assert two[LEAD]["buck_passing"] == (2, 2)  # e6 still names the lead, on both its items


def test_a_ruling_after_the_period_end_corrects_it() -> None:
    late = both([*HISTORY, ruled("12-20T09:00", "r1", "e2", CO)])
    assert late[CO]["deemed_done"] == (0, 2)
    # while an ordinary event after the end still changes nothing
    after = fact(
        CASE,
        "12-20T09:00",
        "dispatch.buck_passing_flagged",
        "e7",
        pattern="cycle",
        units=[LEAD],
        cause="c",
    )
    assert both([*HISTORY, after]) == both(HISTORY)


def test_a_rejected_ruling_or_another_units_waiver_changes_nothing() -> None:
    assert both([*HISTORY, ruled("11-15T09:00", "r1", "e2", CO, "rejected")]) == both(HISTORY)
    assert both([*HISTORY, ruled("11-15T09:00", "r1", "e2", LEAD)]) == both(HISTORY)


def test_the_drill_down_no_longer_names_a_waived_event() -> None:
    fold = RatesFold(NOV).feed_all([*HISTORY, ruled("11-15T09:00", "r1", "e5", CO)])
    assert [e.event for e in fold.drill_down(CO, "buck_passing").numerator] == ["e6", "e6"]
    assert [e.event for e in fold.drill_down(CO, "deemed_done").numerator] == ["e2"]
