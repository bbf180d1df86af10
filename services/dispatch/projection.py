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
    doc.update(
        urgency=d["urgency"],
        calendar_version=d["calendar_version"],
        provisional=d.get("provisional", False),
        assigned_at=e.log_time,
        assigned_by=e.actor,
    )


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    "ledger.complaint.screened.v1": _screened,
    "ledger.dispatch.assigned.v1": _assigned,
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
    }


class DispatchCases(CaseTable):
    """The Projection for ``dispatch_cases`` (see the module docstring)."""

    name = "dispatch_cases"
    collection = DISPATCH_CASES
    rules = RULES
    indexes = (("screened", "screened_at"),)

    def fresh(self) -> Doc:
        return _fresh()


PROJECTIONS: tuple[Projection, ...] = (CaseSummary(), DispatchCases(), ConferenceMinutes())
