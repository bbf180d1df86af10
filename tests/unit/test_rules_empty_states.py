"""A stream no event has reached says that nothing happened, in every part of its state (these
empty states are what every reader starts each stream from: they are in every state digest)."""

from __future__ import annotations

from shared.rules.audit import AuditState
from shared.rules.case.state import CaseState, UnitClock
from shared.rules.conference import ConferenceState
from shared.rules.period import PeriodState


def test_an_empty_case() -> None:
    s = CaseState()
    assert s.summary() == {
        "status": "new",
        "unit": None,
        "clocks": [],
        "returns_pending": [],
        "extensions_pending": [],
        "complaints": [],
        "screened": False,
        "screening": None,
        "related_case": None,
        "merged_into": None,
        "gathered": [],
        "inspection": False,
        "escalation": 0,
        "penalties": [],
        "notices": [],
        "closed_basis": None,
        "finding": None,
        "confidential": False,
        "assigned_times": 0,
        "reopened": 0,
        "answer_due": None,
        "answer_elapsed": False,
        "rated": [],
        "timers": [],
        "deliveries": 0,
        "ladder": [],
        "proposals": [],
    }
    assert (s.lead_unit, s.due_at, s.overdue, s.co_units, s.units) == (None, None, False, (), ())
    assert not s.has_complainant and s.clock("unit:x") is None and s.notice("N1") is None
    assert s.complainant_of("X1") == (False, None)


def test_a_fresh_unit_clock_is_firm_and_nothing_became_of_it_yet() -> None:
    c = UnitClock("unit:x", True, "2026-09-01T18:00:00+08:00", 1)
    assert c.summary() == ["unit:x", True, "2026-09-01T18:00:00+08:00", False, False, False, False]


def test_an_empty_conference() -> None:
    s = ConferenceState()
    assert s.summary() == {
        "status": "new",
        "cases": [],
        "members": [],
        "opinions": [],
        "opinions_due": 0,
        "opinions_elapsed": False,
        "timers": [],
        "deemed_consent": [],
        "convener": "",
        "rule": "majority",
    }
    assert s.absent() == [] and s.tally() == {
        "consent": 0,
        "object": 0,
        "abstain": 0,
        "deemed_consent": 0,
    }


def test_an_empty_period_and_audit_stream() -> None:
    assert PeriodState().summary() == {"version": 0, "units": [], "figures": None}
    a = AuditState()
    assert (a.sealed_digests, a.last_sealed_digests, a.acknowledged) == ((), (), ())


def test_every_status_but_new_is_open_ended_or_an_outcome_exactly_once() -> None:
    from shared.rules.case import state

    groups = [state.OPEN, state.ENDED, state.OUTCOME]
    assert [sorted(g) for g in groups] == [
        ["assigned", "claimed", "disputed", "received"],
        ["declined", "merged", "withdrawn"],
        ["closed", "resolved"],
    ]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 9
    assert state.NEW not in set().union(*groups)
