"""The drill-downs read from the live read model (``rate_evidence.py``) name the same events as
the independent fold's ``drill_down``, and counting them gives the read model's figures: on the
hand-worked history and on random histories."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from services.oversight.rate_evidence import PeriodEvidence, period_evidence
from services.oversight.rates_projection import figures_of
from shared.reports.periods import month_of, period, quarter_of
from shared.reports.rates import FIGURES, Fact, RatesFold
from shared.store.port import Doc
from tests.property.test_rates_agree import DAY, START, histories
from tests.unit.test_rates_fixture import HISTORY, NOVEMBER, Q4, H
from tests.unit.test_rates_projection import project


def docs_of(facts: list[Fact]) -> list[Doc]:
    """The ``rate_items`` documents as the store returns them (``_id``: the case)."""
    return [{"_id": case, **doc} for case, doc in sorted(project(facts).items())]


def assert_same_as_the_fold(facts: list[Fact], period_id: str) -> PeriodEvidence:
    p = period(period_id)
    docs = docs_of(facts)
    ev = period_evidence(docs, p.start, p.end)
    fold = RatesFold(p).feed_all(facts)
    assert ev.figures() == figures_of(docs, p.start, p.end) == fold.figures(), period_id
    for unit, row in ev.figures().items():  # one unit alone: its row, nothing else
        assert period_evidence(docs, p.start, p.end, only=unit).figures() == {unit: row}
    times = {f.id: f.log_time for f in facts}
    for unit in fold.figures():
        for figure in FIGURES:
            ours, theirs = ev.evidence(unit, figure), fold.drill_down(unit, figure)
            for mine, fold_side in (
                (ours.numerator, theirs.numerator),
                (ours.denominator, theirs.denominator),
            ):
                assert Counter(e[:4] for e in mine) == Counter(fold_side), (unit, figure)
                assert all(e.log_time == times[e.event] for e in mine), (unit, figure)
    return ev


@pytest.mark.parametrize(("period_id", "expected"), [("2026-11", NOVEMBER), ("2026-Q4", Q4)])
def test_the_hand_worked_history(period_id: str, expected: object) -> None:
    ev = assert_same_as_the_fold(HISTORY, period_id)
    assert ev.figures() == expected
    for unit, row in ev.figures().items():
        for figure, (n, d) in row.items():
            found = ev.evidence(unit, figure)
            assert (len(found.numerator), len(found.denominator)) == (n, d)


def test_one_unit_alone_and_an_unknown_one() -> None:
    p = period("2026-Q4")
    docs = docs_of(HISTORY)
    alone = period_evidence(docs, p.start, p.end, only=H)
    assert alone.figures() == {H: Q4[H]}
    assert alone.evidence("unit:nobody", "reply") == ([], [])
    with pytest.raises(KeyError):
        alone.evidence(H, "kindness")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_random_histories(facts: list[Fact]) -> None:
    last = max(f.log_time for f in facts) + 40 * DAY
    periods = {g(t) for t in range(START, last, 10 * DAY) for g in (month_of, quarter_of)}
    for period_id in sorted(periods):
        assert_same_as_the_fold(facts, period_id)
