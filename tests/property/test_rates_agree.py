"""For randomised case histories, the independent fold of ``ledger report`` and oversight's
live read model agree on every unit's numerators and denominators, in every period."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.oversight.rates_projection import figures_of
from shared.reports.periods import month_of, period, quarter_of
from shared.reports.rates import Fact, period_figures
from tests.unit.test_rates_projection import project

UNITS = ("unit:a", "unit:b", "unit:c")
START = 1_790_000_000_000_000  # 2026-09 (µs)
DAY = 86_400_000_000


def iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t / 1e6, UTC).isoformat()


@st.composite
def case_history(draw: st.DrawFn, n: int) -> list[Fact]:
    stream = f"case-00000000-0000-4000-8000-{n:012d}"
    t = START + draw(st.integers(0, 60)) * DAY
    units: list[str] = []
    facts: list[Fact] = []
    appealable: list[tuple[str, list[str]]] = []  # (event id, units it counts against)

    def add(kind: str, data: dict[str, Any]) -> None:
        facts.append(Fact(stream, t, f"{stream}-{len(facts)}", f"ledger.{kind}.v1", data))

    for _ in range(draw(st.integers(1, 12))):
        t += draw(st.integers(1, 20 * DAY))

        def due(now: int = t) -> str:
            return iso(now + draw(st.integers(0, 40 * DAY)))

        if not units:
            units = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3, unique=True))
            co = [{"unit": u, "due_at": due()} for u in units[1:]]
            add("dispatch.assigned", {"lead_unit": units[0], "due_at": due(), "co_units": co})
            continue
        unit = draw(st.sampled_from(units))
        action = draw(
            st.sampled_from(
                (
                    "reply",
                    "claim",
                    "extend",
                    "deem",
                    "return",
                    "confirm",
                    "close",
                    "reopen",
                    "flag",
                    "rate",
                    "appeal",
                )
            )
        )
        if action == "appeal" and not appealable:
            action = "rate"
        if action == "reply":
            add("handling.replied", {"unit": unit, "text": "x"})
        elif action == "claim":
            add("handling.resolution_claimed", {"unit": unit, "summary": "x"})
        elif action == "extend":
            granted = draw(st.booleans())
            add(
                "handling.extension_ruled",
                {
                    "unit": unit,
                    "granted": granted,
                    "due_at": due() if granted else None,
                    "ruling": "x",
                },
            )
        elif action == "deem":
            add("dispatch.deemed_done", {"unit": unit, "due_at": due(), "cause": "x"})
            appealable.append((facts[-1].id, [unit]))
        elif action == "return":
            add("dispatch.return_ruled", {"unit": unit, "granted": True, "ruling": "x"})
            units = [] if unit == units[0] else [u for u in units if u != unit]
        elif action == "confirm":
            add("complainant.confirmed", {"complaint_no": "N"})
        elif action == "close":
            basis = draw(
                st.sampled_from(("complainant_confirmed", "anonymous", "no_answer_in_time"))
            )
            add(
                "handling.closed",
                {"basis": basis, "finding": "substantiated", "confidential": False},
            )
        elif action == "reopen":
            add(
                "handling.reopened",
                {"reason": "x", "units": [{"unit": u, "due_at": due()} for u in units]},
            )
            appealable.append((facts[-1].id, list(units)))
        elif action == "flag":
            named = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3))
            add("dispatch.buck_passing_flagged", {"pattern": "cycle", "units": named, "cause": "x"})
            appealable.append((facts[-1].id, named))
        elif action == "appeal":
            target, against = draw(st.sampled_from(appealable))
            outcome = draw(st.sampled_from(("upheld", "upheld", "rejected")))
            kind = "reopen"  # the rates read the event id and the unit, not the kind
            ruled = {"target": kind, "target_event": target, "unit": draw(st.sampled_from(against))}
            add("appeal.ruled", {"appeal_id": "a", "outcome": outcome, "reason": "x", **ruled})
        else:
            add(
                "complainant.satisfaction_rated",
                {"complaint_no": "N", "rating": draw(st.integers(1, 5))},
            )
    return facts


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    cases = [draw(case_history(n)) for n in range(draw(st.integers(1, 8)))]
    return sorted((f for c in cases for f in c), key=lambda f: f.log_time)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_fold_and_read_model_agree_in_every_period(facts: list[Fact]) -> None:
    docs = project(facts).values()
    last = max(f.log_time for f in facts) + 40 * DAY  # the latest due time drawn
    periods = {g(t) for t in range(START, last, 10 * DAY) for g in (month_of, quarter_of)}
    for period_id in sorted(periods):
        p = period(period_id)
        assert figures_of(docs, p.start, p.end) == period_figures(facts, p), period_id
