"""dispatch.*: assignment (each unit its own clock), rulings on returns, 超时默认 for co-units.

The clock starts at assignment. A return (退单) needs dispatch's ruling and the unit stays
responsible until it is granted (首接负责). Only a co-unit is ever deemed done, and only once
its own deadline has elapsed; the lead unit is never deemed done (see ``deadline.py``).
Dispatch signs only for its body's staff (the rights table), so no check here asks who acted.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, micros, state_is
from shared.rules.case.guards import all_of, in_status, unit_on_case
from shared.rules.case.state import ASSIGNED, CLAIMED, RECEIVED, CaseState, UnitClock
from shared.rules.verdict import Reason, Verdict, reject


def _screened(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if s.screened else reject(Reason.unscreened, "the case has not been screened")


def _assign(s: CaseState, d: dict[str, Any]) -> CaseState:
    lead = UnitClock(
        d["lead_unit"], True, d["due_at"], micros(d["due_at"]), d.get("provisional", False)
    )
    co = tuple(
        UnitClock(u["unit"], False, u["due_at"], micros(u["due_at"]), u.get("provisional", False))
        for u in d.get("co_units", ())
    )
    return s._replace(
        status=ASSIGNED,
        clocks=(lead, *co),
        returns_pending=(),
        extensions_pending=(),
        assigned_times=s.assigned_times + 1,
    )


def _return_pending(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if d["unit"] in s.returns_pending else state_is("no return pending for this unit")


def _return_ruled(s: CaseState, d: dict[str, Any]) -> CaseState:
    pending = tuple(u for u in s.returns_pending if u != d["unit"])
    if not d["granted"]:
        return s._replace(returns_pending=pending)
    if d["unit"] == s.lead_unit:
        # The lead is released: the case waits for a new assignment, co-units with it.
        return s._replace(status=RECEIVED, clocks=(), returns_pending=(), extensions_pending=())
    return s._replace(
        returns_pending=pending,
        extensions_pending=tuple(u for u in s.extensions_pending if u != d["unit"]),
        clocks=tuple(c for c in s.clocks if c.unit != d["unit"]),
    )


def _deemable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    clock = s.clock(d["unit"])
    assert clock is not None  # unit_on_case ran first
    if clock.lead:
        return state_is("the lead unit is never deemed done: it is overdue and escalated")
    if clock.completed or clock.deemed_done:
        return state_is("this unit's part is already done")
    if not clock.overdue or clock.due != micros(d["due_at"]):
        return reject(Reason.too_early, "this unit's current deadline has not elapsed")
    return None


def _confirmable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """A provisional due is confirmed once, against the due it names, while it still runs."""
    clock = s.clock(d["unit"])
    assert clock is not None  # unit_on_case ran first
    if not clock.provisional:
        return state_is("this unit's due time is not provisional")
    if clock.due != micros(d["previous_due_at"]):
        return state_is("the due time named is not this unit's current one")
    if clock.completed or clock.deemed_done or clock.overdue:
        return state_is("this unit's deadline no longer runs")
    return None


def _due_confirmed(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s.with_clock(
        d["unit"], due_at=d["due_at"], due=micros(d["due_at"]), provisional=d["provisional"]
    )


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.dispatch.assigned.v1": (all_of(in_status(RECEIVED), _screened), _assign),
    "ledger.dispatch.return_ruled.v1": (
        all_of(in_status(ASSIGNED), _return_pending),
        _return_ruled,
    ),
    "ledger.dispatch.deemed_done.v1": (
        all_of(in_status(ASSIGNED, CLAIMED), unit_on_case, _deemable),
        lambda s, d: s.with_clock(d["unit"], deemed_done=True),
    ),
    # A newer calendar settles a provisional due only through an officer's confirmation.
    "ledger.dispatch.due_confirmed.v1": (
        all_of(in_status(ASSIGNED, CLAIMED), unit_on_case, _confirmable),
        _due_confirmed,
    ),
}
