"""Oversight's live rates read model agrees with the independent fold on the hand-worked
history, and a period's figures are read as of its end."""

from __future__ import annotations

import pytest

from services.oversight.rates_projection import RateItems, figures_of
from shared.readside.projection import Accepted
from shared.reports.periods import period
from shared.reports.rates import Fact, period_figures
from shared.store.port import Doc
from tests.unit.test_rates_fixture import HISTORY, NOVEMBER, Q4


def project(facts: list[Fact]) -> dict[str, Doc]:
    projection = RateItems()
    docs: dict[str, Doc] = {}
    for i, f in enumerate(facts):
        event = Accepted(f.stream, 0, i, f.log_time, f.id, f.type, "unit", "/s", f.data, {})
        for w in projection.apply(docs.get(f.stream), event):
            docs[w.id] = dict(w.doc)
    return docs


@pytest.mark.parametrize("period_id", ["2026-10", "2026-11", "2026-12", "2026-Q4"])
def test_the_read_model_agrees_with_the_fold(period_id: str) -> None:
    p = period(period_id)
    assert figures_of(project(HISTORY).values(), p.start, p.end) == period_figures(HISTORY, p)


def test_the_read_model_gives_the_hand_worked_figures() -> None:
    docs = project(HISTORY).values()
    november, q4 = period("2026-11"), period("2026-Q4")
    assert figures_of(docs, november.start, november.end) == NOVEMBER
    assert figures_of(docs, q4.start, q4.end) == Q4


def test_a_dropped_event_shows_in_its_unit_and_figure() -> None:
    dropped = [f for f in HISTORY if f.id != "b7"]  # B's second confirmation
    p = period("2026-11")
    live = figures_of(project(dropped).values(), p.start, p.end)
    assert live["unit:health-bureau"]["resolution"] == (0, 2)
    assert live != NOVEMBER
