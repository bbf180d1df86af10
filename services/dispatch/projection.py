"""Dispatch's read model: the case summary every service keeps, and the dispatch board's own
documents (``dispatch_cases``, one per case): what a dispatch officer needs to route a case —
its number, the unit complained about, the category, whether it is screened — and how it was
assigned (urgency, calendar version). No complaint text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.dispatch.conference_projection import ConferenceMinutes
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Projection
from shared.readside.projections.case_summary import CaseSummary
from shared.store.port import Doc

DISPATCH_CASES = "dispatch_cases"


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        complaint_no=d["complaint_no"],
        unit=d["unit"],
        category=d["category"],
        received_at=e.log_time,
    )


def _screened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(screened=True, screening=d["outcome"], screened_at=e.log_time)


def _assigned(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    lead = {"unit": d["lead_unit"], "due_at": d["due_at"], "provisional": d.get("provisional")}
    dues = [
        {
            "unit": u["unit"],
            "due_at": u["due_at"],
            "provisional": bool(u.get("provisional", False)),
            "calendar_version": d["calendar_version"],
        }
        for u in (lead, *d.get("co_units", ()))
    ]
    proposed = d.get("proposed") or {}
    doc.update(
        urgency=d["urgency"],
        calendar_version=d["calendar_version"],
        provisional=any(u["provisional"] for u in dues),
        assigned_at=e.log_time,
        assigned_by=e.actor,
        dues=dues,
        counted_from=d.get("counted_from"),
        handle_within=d.get("handle_within"),
        routing_version=d.get("routing_version"),
        time_limits_version=d.get("time_limits_version"),
        route_entry=proposed.get("entry"),
        override_reason=d.get("override_reason"),
    )


def _due_confirmed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    moved = {"due_at": d["due_at"], "provisional": d["provisional"]}
    dues = [
        {**u, **moved, "calendar_version": d["calendar_version"]} if u["unit"] == d["unit"] else u
        for u in doc["dues"]
    ]
    doc.update(dues=dues, provisional=any(u["provisional"] for u in dues))


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    "ledger.complaint.screened.v1": _screened,
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.dispatch.due_confirmed.v1": _due_confirmed,
}


def _fresh() -> Doc:
    return {
        "complaint_no": None,
        "unit": None,
        "category": None,
        "received_at": None,
        "screened": False,
        "screening": None,
        "screened_at": None,
        "urgency": None,
        "calendar_version": None,
        "provisional": False,
        "assigned_at": None,
        "assigned_by": None,
        "dues": [],  # each unit's due as recorded: unit, due_at, provisional, calendar_version
        "counted_from": None,
        "handle_within": None,
        "routing_version": None,
        "time_limits_version": None,
        "route_entry": None,
        "override_reason": None,
    }


class DispatchCases(CaseTable):
    """The Projection for ``dispatch_cases`` (see the module docstring)."""

    name = "dispatch_cases"
    collection = DISPATCH_CASES
    rules = RULES
    indexes = (("screened", "screened_at"), ("provisional",))

    def fresh(self) -> Doc:
        return _fresh()


PROJECTIONS: tuple[Projection, ...] = (CaseSummary(), DispatchCases(), ConferenceMinutes())
