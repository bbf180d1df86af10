"""Intake's read model: the case summary every service keeps, and intake's own complaint
documents (``complaints``, one per case): the number, channel, category, unit, how it was
screened, the tracking code's hash (to find a case from what a complainant types) and the
complainant's pseudonym. Never the text (it stays in the log) nor anyone's identity (it never
enters the log)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake import scope
from services.intake.status_projection import CaseStatus
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Projection
from shared.readside.projections.case_summary import CaseSummary
from shared.store.port import Doc

COMPLAINTS = "complaints"


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        complaint_no=d["complaint_no"],
        channel=d["channel"],
        unit=d["unit"],
        category=d["category"],
        tracking_code_hash=d["tracking_code_hash"],
        complainant=d.get("complainant"),
        received_at=e.log_time,
        received_by=d.get("received_by"),
        stated_received_at=d.get("stated_received_at"),
        platform=d.get("platform"),
        scope_flag=scope.flag(d["text"]),  # a hint for the clerk, from the logged text
        received_id=e.id,  # the detail page reads the text from the log by it
    )


def _screened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(screened=True, screening=d["outcome"], screening_method=d["method"])


def _answered(answer: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
        doc.update(answer=answer, answered_at=e.log_time)

    return rule


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(answer=None, answered_at=None)


def _unit_resolved(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(unit=d["unit"], unit_resolved_by=e.actor)


def _recategorised(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(category=d["category"], recategorised_by=e.actor)


def _declined(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(ended="declined", ended_reason=d["reason"], ended_at=e.log_time)


def _withdrawn(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(ended="withdrawn", ended_reason=d["reason"], ended_at=e.log_time)


RULES: dict[str, Rule] = {
    "ledger.complaint.unit_resolved.v1": _unit_resolved,
    "ledger.complaint.recategorised.v1": _recategorised,
    "ledger.complaint.declined.v1": _declined,
    "ledger.complaint.withdrawn.v1": _withdrawn,
    "ledger.complaint.received.v1": _received,
    "ledger.complaint.screened.v1": _screened,
    "ledger.complainant.confirmed.v1": _answered("confirmed"),
    "ledger.complainant.disputed.v1": _answered("disputed"),
    "ledger.handling.reopened.v1": _reopened,
}


def _fresh() -> Doc:
    return {
        "complaint_no": None,
        "channel": None,
        "unit": None,
        "category": None,
        "tracking_code_hash": None,
        "complainant": None,
        "received_at": None,
        "screened": False,
        "screening": None,
        "screening_method": None,
        "answer": None,
        "answered_at": None,
        "received_by": None,
        "stated_received_at": None,
        "platform": None,
        "scope_flag": None,
        "received_id": None,
        "unit_resolved_by": None,
        "recategorised_by": None,
        "ended": None,
        "ended_reason": None,
        "ended_at": None,
    }


class IntakeComplaints(CaseTable):
    """The Projection for ``complaints`` (see the module docstring)."""

    name = "intake_complaints"
    collection = COMPLAINTS
    rules = RULES
    indexes = (
        ("complaint_no",),
        ("screened", "received_at"),
        ("unit", "received_at"),
        ("channel", "received_at"),
        ("received_by", "received_at"),
        ("received_at",),
    )

    def fresh(self) -> Doc:
        return _fresh()


PROJECTIONS: tuple[Projection, ...] = (CaseSummary(), IntakeComplaints(), CaseStatus())
