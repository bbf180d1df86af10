"""效能考核: a ranking on a hand-written fixture. Two months, two weights versions (November is
ranked by version 1, in force at its end; December by version 2, published in December), a
unit below the minimum number of cases in each month, a tie broken by a figure and a tie
shared. Every expected score and rank below is worked out by hand from the figures."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from services.oversight.ranking import Ranking, rank, version_at
from shared.events.catalog import AssessmentWeights
from shared.ledger.configuration import PublishedVersion, default_contents
from shared.reports.periods import period
from shared.reports.rates import FIGURES

NOV, DEC = period("2026-11"), period("2026-12")
A, B, C, D, E = (f"unit:{x}" for x in "abcde")

V1 = {"weights": {"reply": 50, "resolution": 50}, "min_cases": 3, "tie_break": ["resolution"]}
V2 = {"weights": {"resolution": 25, "satisfaction": 25, "overdue": 50}, "min_cases": 2}
HISTORY = [
    PublishedVersion("assessment_weights", "1", V1, 7, "body/S1", appended_at=NOV.start - 10**10),
    PublishedVersion("assessment_weights", "2", V2, 9, "body/S1", appended_at=DEC.start + 10**10),
]


def unit(cases: int, **given: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """A unit's figures: ``cases`` items due; item figures not given are 0 of them."""
    out = {f: (0, cases) for f in FIGURES if f != "satisfaction"} | {"satisfaction": (0, 0)}
    return out | given


NOVEMBER = {
    A: unit(4, reply=(3, 4), resolution=(2, 4), overdue=(1, 4), satisfaction=(1, 2)),
    B: unit(5, reply=(2, 5), resolution=(4, 5)),
    C: unit(2, reply=(2, 2), resolution=(2, 2)),  # below 3 cases
    D: unit(3, reply=(1, 3), resolution=(3, 3)),
    E: unit(4, reply=(2, 4), resolution=(3, 4)),
}
DECEMBER = {
    A: unit(2, resolution=(1, 2), overdue=(1, 2)),  # no scores: satisfaction left out
    B: unit(3, resolution=(3, 3), satisfaction=(1, 2)),
    C: unit(2, resolution=(2, 2), overdue=(1, 2), satisfaction=(2, 2)),
    D: unit(1, resolution=(1, 1)),  # below 2 cases
    E: unit(2, resolution=(1, 2), overdue=(1, 2)),
}


def ranking_for(figures: dict[str, Any], end: int) -> Ranking:
    used = version_at(HISTORY, end)
    assert used is not None
    return rank(figures, AssessmentWeights.model_validate(used.content))


def table(r: Ranking) -> list[tuple[int | None, str, Fraction | None]]:
    return [(row.rank, row.unit, row.score) for row in r.ranked]


def test_november_is_ranked_by_the_version_in_force_at_its_end() -> None:
    used = version_at(HISTORY, NOV.end)
    assert used is not None and used.label == "1"
    r = ranking_for(NOVEMBER, NOV.end)
    # v1: (50·reply + 50·resolution) / 100, on 0-100.
    # D (1/3 + 1)/2 = 66.67; E (1/2 + 3/4)/2 = 62.5 = A (3/4 + 1/2)/2, E first on resolution
    # (3/4 against 1/2); B (2/5 + 4/5)/2 = 60.
    assert table(r) == [
        (1, D, Fraction(200, 3)),
        (2, E, Fraction(125, 2)),
        (3, A, Fraction(125, 2)),
        (4, B, Fraction(60)),
    ]
    assert [(row.unit, row.cases, row.not_ranked) for row in r.not_ranked] == [
        (C, 2, "fewer_cases")
    ]
    assert r.min_cases == 3


def test_december_is_ranked_by_the_version_published_in_december() -> None:
    used = version_at(HISTORY, DEC.end)
    assert used is not None and used.label == "2"
    r = ranking_for(DECEMBER, DEC.end)
    # v2: 25·resolution + 25·satisfaction + 50·(1 − overdue), over the weights with data.
    # B (25 + 12.5 + 50)/100 = 87.5; C (25 + 25 + 25)/100 = 75;
    # A and E (12.5 + 25)/75 = 50: no tie-break figures, so they share third place.
    assert table(r) == [
        (1, B, Fraction(175, 2)),
        (2, C, Fraction(75)),
        (3, A, Fraction(50)),
        (3, E, Fraction(50)),
    ]
    assert [(row.unit, row.not_ranked) for row in r.not_ranked] == [(D, "fewer_cases")]
    # C, below November's minimum, is ranked in December under the new minimum of 2.
    assert C in {row.unit for row in r.ranked}


def test_a_version_published_at_the_end_is_not_in_force_for_that_period() -> None:
    at_end = [HISTORY[0], PublishedVersion("assessment_weights", "2", V2, 9, appended_at=NOV.end)]
    used = version_at(at_end, NOV.end)
    assert used is not None and used.label == "1"
    assert version_at(HISTORY, NOV.start - 10**10) is None  # before the first version


def test_each_row_carries_every_figure_in_order() -> None:
    row = ranking_for(NOVEMBER, NOV.end).ranked[2]
    assert row.unit == A
    assert [(c.figure, c.numerator, c.denominator) for c in row.cells] == [
        (f, *NOVEMBER[A][f]) for f in FIGURES
    ]
    by = {c.figure: c.goodness for c in row.cells}
    assert by["overdue"] == Fraction(3, 4)  # counted in its negative sense
    assert by["satisfaction"] == Fraction(1, 2)


def test_a_unit_with_data_only_on_unweighted_figures_is_not_ranked() -> None:
    weights = AssessmentWeights.model_validate({"weights": {"satisfaction": 1}, "min_cases": 1})
    r = rank({A: unit(3), B: unit(2, satisfaction=(1, 1))}, weights)
    assert table(r) == [(1, B, Fraction(100))]
    assert [(row.unit, row.not_ranked) for row in r.not_ranked] == [(A, "no_weighted_figure")]


def test_only_scored_units_are_below_any_minimum() -> None:
    """A unit with scores but no case due in the period has no cases: not ranked."""
    weights = AssessmentWeights.model_validate(V2)
    r = rank({A: unit(0, satisfaction=(2, 2))}, weights)
    assert r.ranked == [] and r.not_ranked[0].cases == 0


def test_the_shipped_default_is_valid() -> None:
    default = AssessmentWeights.model_validate(default_contents()["assessment_weights"])
    assert sum(default.weights.values()) == 100 and default.min_cases >= 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"weights": {"reply": -1, "resolution": 2}, "min_cases": 1}, "greater than or equal"),
        ({"weights": {"reply": 0}, "min_cases": 1}, "at least one figure"),
        ({"weights": {"reply": 1.5}, "min_cases": 1}, "integer"),
        ({"weights": {"speed": 1}, "min_cases": 1}, "speed"),
        ({"weights": {"reply": 1}, "min_cases": 0}, "greater than or equal to 1"),
        ({"weights": {"reply": 1}, "min_cases": 1, "tie_break": ["reply", "reply"]}, "once"),
        ({"weights": {"reply": 1}}, "min_cases"),
    ],
)
def test_weights_are_validated_with_clear_errors(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        AssessmentWeights.model_validate(content)
    assert message in str(err.value)
