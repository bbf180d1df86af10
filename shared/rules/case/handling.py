"""handling.*: every act of a unit (through oversight's workbench), and the supervisors' rulings.

A unit acts only in its own name and only on a case it is assigned to. A unit's claim of
resolution is not resolution: the complainant confirms, or — where there is nobody to ask
(anonymous, opened by an inspection, no answer by the 回访 deadline) — a supervisor decides,
and the basis is recorded. A co-unit's claim completes its part without touching the case.
A reopen (重办) gives every acting unit a fresh due time.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, micros, state_is
from shared.rules.case.guards import all_of, in_status, same, unit_act, unit_on_case
from shared.rules.case.state import (
    ASSIGNED,
    CLAIMED,
    CLOSED,
    DISPUTED,
    RESOLVED,
    CaseState,
)
from shared.rules.verdict import Reason, Verdict, reject

_WORKING = (ASSIGNED, CLAIMED, DISPUTED)


def _part_open(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    clock = s.clock(d["unit"])
    if clock is not None and (clock.completed or clock.deemed_done):
        return state_is("this unit's part is already done")
    return None


def _claimed(s: CaseState, d: dict[str, Any]) -> CaseState:
    unit = d["unit"]
    clocks = tuple([c._replace(completed=True) if c.unit == unit else c for c in s.clocks])
    if unit != s.lead_unit:
        return s._replace(clocks=clocks)
    due = d.get("answer_due_at")
    return s._replace(
        status=CLAIMED,
        clocks=clocks,
        answer_due=micros(due) if due else None,
        answer_elapsed=False,
    )


def _not_pending(field: str, what: str) -> Check:
    def check(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
        return (
            state_is(f"{what} already pending for this unit")
            if d["unit"] in getattr(s, field)
            else None
        )

    return check


def _pending(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d["unit"] not in s.extensions_pending:
        return state_is("no extension pending for this unit")
    if d["granted"] and not d.get("due_at"):
        return state_is("a granted extension names the new due time")
    return None


def _extension_ruled(s: CaseState, d: dict[str, Any]) -> CaseState:
    s = s._replace(extensions_pending=tuple(u for u in s.extensions_pending if u != d["unit"]))
    if not d["granted"]:
        return s
    return s.with_clock(d["unit"], due_at=d["due_at"], due=micros(d["due_at"]), overdue=False)


def _reopenable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if not s.clocks:
        return state_is("no unit to reopen with")
    named = [u["unit"] for u in d["units"]]
    if len(set(named)) != len(named) or set(named) != set(s.units):
        return state_is("a reopen gives every acting unit, and only those, a fresh due time")
    return None


def _reopened(s: CaseState, d: dict[str, Any]) -> CaseState:
    fresh = {u["unit"]: u for u in d["units"]}
    clocks = tuple(
        c._replace(
            due_at=fresh[c.unit]["due_at"],
            due=micros(fresh[c.unit]["due_at"]),
            provisional=fresh[c.unit].get("provisional", False),
            overdue=False,
            deemed_done=False,
            completed=False,
        )
        for c in s.clocks
    )
    return s._replace(
        status=ASSIGNED,
        clocks=clocks,
        closed_basis=None,
        finding=None,
        confidential=False,
        reopened=s.reopened + 1,
        answer_due=None,
        answer_elapsed=False,
    )


def _closable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    basis = d["basis"]
    if basis == "complainant_confirmed":
        return None if s.status == RESOLVED else state_is("the complainant has not confirmed")
    if s.status != CLAIMED:
        return state_is(f"a supervisor does not decide while {s.status}")
    if s.has_complainant and not s.answer_elapsed:
        return reject(Reason.complainant_askable, "the complainant can still be asked")
    if basis == "anonymous" and s.has_complainant:
        return state_is("the case has a complainant")
    if basis == "inspection_opened" and not s.inspection:
        return state_is("the case was not opened by an inspection")
    if basis == "no_answer_in_time" and not s.answer_elapsed:
        return state_is("the answer deadline has not elapsed")
    return None


def _closed(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        status=CLOSED,
        closed_basis=d["basis"],
        finding=d["finding"],
        confidential=d["confidential"],
    )


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.handling.acknowledged.v1": (all_of(unit_act, in_status(*_WORKING)), same),
    "ledger.handling.replied.v1": (all_of(unit_act, in_status(*_WORKING)), same),
    "ledger.handling.progress.v1": (all_of(unit_act, in_status(*_WORKING)), same),
    "ledger.handling.resolution_claimed.v1": (
        all_of(unit_act, in_status(ASSIGNED), _part_open),
        _claimed,
    ),
    "ledger.handling.return_requested.v1": (
        all_of(unit_act, in_status(ASSIGNED), _not_pending("returns_pending", "a return")),
        lambda s, d: s._replace(returns_pending=(*s.returns_pending, d["unit"])),
    ),
    "ledger.handling.extension_requested.v1": (
        all_of(unit_act, in_status(ASSIGNED), _not_pending("extensions_pending", "an extension")),
        lambda s, d: s._replace(extensions_pending=(*s.extensions_pending, d["unit"])),
    ),
    "ledger.handling.extension_ruled.v1": (
        all_of(by_body, in_status(ASSIGNED), unit_on_case, _pending),
        _extension_ruled,
    ),
    "ledger.handling.reopened.v1": (
        all_of(by_body, in_status(DISPUTED, RESOLVED, CLOSED), _reopenable),
        _reopened,
    ),
    "ledger.handling.closed.v1": (all_of(by_body, _closable), _closed),
}
