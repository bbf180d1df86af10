"""The checks the case family tables compose: state, who acted, which unit, which complaint."""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, all_of, by_body, state_is
from shared.rules.case.state import ENDED, NEW, CaseState
from shared.rules.verdict import Reason, Verdict, reject

__all__ = ["Check", "Evolve", "all_of", "by_body", "in_status", "same", "unit_act"]


def in_status(*statuses: str) -> Check:
    allowed = frozenset(statuses)

    def check(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
        return None if s.status in allowed else state_is(f"not allowed while {s.status}")

    return check


def unit_act(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """A unit acts only for itself, and only on a case it is assigned to."""
    if not act.by_unit:
        return reject(Reason.wrong_actor, "only a unit, through the workbench, does this")
    if act.org != d["unit"]:
        return reject(Reason.acts_for_other, "a unit acts only in its own name")
    if s.clock(d["unit"]) is None:
        return reject(Reason.not_assigned, "unit is not assigned to this case")
    return None


def unit_on_case(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """The unit a body's act names is on the case."""
    if s.clock(d["unit"]) is None:
        return reject(Reason.not_assigned, "unit is not assigned to this case")
    return None


def not_ended(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if s.status not in ENDED and s.status != NEW else state_is(f"case is {s.status}")


def complaint_on_case(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    on_case, _ = s.complainant_of(d["complaint_no"])
    return None if on_case else reject(Reason.unknown_complaint, "no such complaint on the case")


def by_its_complainant(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """Only the complainant of that complaint of this case confirms, disputes or rates."""
    on_case, who = s.complainant_of(d["complaint_no"])
    if not on_case:
        return reject(Reason.unknown_complaint, "no such complaint on the case")
    if who is None or not act.by_complainant or act.person != who:
        return reject(Reason.not_complainant, "only that complaint's complainant may do this")
    return None


def same(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s
