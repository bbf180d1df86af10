"""Oversight's live rates read model agrees with the independent fold on the hand-worked
history, and a period's figures are read as of its end."""

from __future__ import annotations

import pytest

from services.oversight.rates_projection import (
    RATE_ITEMS,
    RATE_PERIODS,
    RateItems,
    figures_of,
    totals_of,
)
from shared.readside.projection import Accepted
from shared.reports.periods import period
from shared.reports.rates import Fact, period_figures
from shared.store.port import Doc
from tests.unit.test_rates_fixture import DECEMBER, HISTORY, NOVEMBER, Q4


def project(facts: list[Fact], collection: str = RATE_ITEMS) -> dict[str, Doc]:
    """The documents of ``collection`` the projection writes for ``facts``."""
    projection = RateItems()
    docs: dict[str, dict[str, Doc]] = {}
    for i, f in enumerate(facts):
        event = Accepted(f.stream, 0, i, f.log_time, f.id, f.type, "unit", "/s", f.data, {})
        for w in projection.apply(docs.get(RATE_ITEMS, {}).get(f.stream), event):
            docs.setdefault(w.coll, {})[w.id] = dict(w.doc)
    return docs.get(collection, {})


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


@pytest.mark.parametrize("period_id", ["2026-10", "2026-11", "2026-12", "2026-Q4", "2027-01"])
def test_a_periods_totals_from_the_shares_agree_with_the_case_documents(period_id: str) -> None:
    p = period(period_id)
    shares = [s for s in project(HISTORY, RATE_PERIODS).values() if s["period"] == period_id]
    assert totals_of(shares) == figures_of(project(HISTORY).values(), p.start, p.end)


def test_each_case_has_a_share_of_every_period_it_touches() -> None:
    shares = project(HISTORY, RATE_PERIODS)
    # A: co-unit due 11-05, lead's due moved to 12-03 on 11-08; the score of 11-23 counts for
    # both units. Its November share: the co-unit's item, and the lead's score alone.
    a = "case-00000000-0000-4000-8000-00000000000a"
    assert {k for k in shares if k.startswith(a)} == {
        f"{a}|2026-11",
        f"{a}|2026-12",
        f"{a}|2026-Q4",
    }
    november = totals_of([shares[f"{a}|2026-11"]])
    assert november["unit:health-bureau"]["reply"] == (0, 0)
    assert november["unit:health-bureau"]["satisfaction"] == (1, 1)
    assert november["unit:market-regulation"]["deemed_done"] == (1, 1)
    assert totals_of([shares[f"{a}|2026-12"]]) == {
        "unit:health-bureau": DECEMBER["unit:health-bureau"]
    }
