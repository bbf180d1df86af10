"""效能考核: a period's ranking of units from their rates, by the ``assessment_weights`` version
in force at the period's end (pure).

A unit's **score** is the weighted mean, on 0-100, of its figures' goodness: the rate itself
for reply, resolution and satisfaction; one minus the rate for overdue, deemed_done, reopened
and buck_passing (the share of items that escaped them). A figure with no denominator (no
satisfaction scores in the period) is left out, and the other weights carry the score; the
score is exact (a fraction), rounded only for display.

A unit is **ranked** when it had at least ``min_cases`` cases due in the period (its cohort:
the denominator of its item figures); otherwise it is listed apart as not ranked, with the
reason. Order: the higher score first; equal scores by the ``tie_break`` figures' goodness, in
order (a figure without data after any with data); units still equal share the rank
(competition ranking: 1, 2, 2, 4) and are listed by unit id.

The version used is the one published last before the period's end, by the log's time, so a
closed month keeps the weights it was assessed under when a later version is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from shared.events.catalog import AssessedFigure, AssessmentWeights
from shared.ledger.configuration import PublishedVersion
from shared.reports.rates import FIGURES

NEGATIVE: frozenset[str] = frozenset({"overdue", "deemed_done", "reopened", "buck_passing"})
"""Figures counted in their negative sense (fewer is better)."""

NotRankedReason = Literal["fewer_cases", "no_weighted_figure"]


@dataclass(frozen=True)
class Cell:
    """One figure of one unit: numerator, denominator, and its goodness (None: no data)."""

    figure: str
    numerator: int
    denominator: int
    goodness: Fraction | None


@dataclass(frozen=True)
class RankingRow:
    unit: str
    cases: int  # the cohort: cases due in the period
    cells: tuple[Cell, ...]  # in FIGURES order
    rank: int | None = None  # None: not ranked
    score: Fraction | None = None  # 0-100, exact
    not_ranked: NotRankedReason | None = None


@dataclass(frozen=True)
class Ranking:
    ranked: list[RankingRow]
    not_ranked: list[RankingRow]
    min_cases: int


def goodness(figure: str, numerator: int, denominator: int) -> Fraction | None:
    if denominator == 0:
        return None
    rate = Fraction(numerator, denominator)
    return 1 - rate if figure in NEGATIVE else rate


def score(cells: Iterable[Cell], weights: Mapping[AssessedFigure, int]) -> Fraction | None:
    """The weighted mean of the figures with data, on 0-100; None if no weighted one has."""
    total = Fraction(0)
    weight = 0
    for c in cells:
        w = weights.get(c.figure, 0)  # type: ignore[call-overload]
        if w and c.goodness is not None:
            total += w * c.goodness
            weight += w
    return total * 100 / weight if weight else None


def _order(row: RankingRow, tie_break: Sequence[str]) -> tuple[object, ...]:
    """Sort key without the unit: equal keys share a rank."""
    by = {c.figure: c.goodness for c in row.cells}
    ties = tuple((0, -g) if (g := by[f]) is not None else (1, Fraction(0)) for f in tie_break)
    assert row.score is not None
    return (-row.score, *ties)


def rank(figures: Mapping[str, Mapping[str, tuple[int, int]]], w: AssessmentWeights) -> Ranking:
    """Every unit's row: the ranked in order, the not ranked apart (by unit id)."""
    scored: list[RankingRow] = []
    apart: list[RankingRow] = []
    for unit in sorted(figures):
        counts = figures[unit]
        cells = tuple(
            Cell(f, *counts.get(f, (0, 0)), goodness(f, *counts.get(f, (0, 0)))) for f in FIGURES
        )
        cases = counts.get("reply", (0, 0))[1]
        if cases < w.min_cases:
            apart.append(RankingRow(unit, cases, cells, not_ranked="fewer_cases"))
            continue
        s = score(cells, w.weights)
        if s is None:
            apart.append(RankingRow(unit, cases, cells, not_ranked="no_weighted_figure"))
            continue
        scored.append(RankingRow(unit, cases, cells, score=s))
    keyed = sorted(((_order(r, w.tie_break), r.unit, r) for r in scored), key=lambda k: k[:2])
    ranked: list[RankingRow] = []
    previous: tuple[object, ...] | None = None
    place = 0
    for i, (key, _, row) in enumerate(keyed, start=1):
        if key != previous:
            place, previous = i, key
        ranked.append(RankingRow(row.unit, row.cases, row.cells, place, row.score))
    return Ranking(ranked, apart, w.min_cases)


def version_at(history: Sequence[PublishedVersion], end: int) -> PublishedVersion | None:
    """The version in force at ``end`` (µs): the last one the log took before it."""
    before = [v for v in history if v.appended_at is not None and v.appended_at < end]
    return before[-1] if before else None
