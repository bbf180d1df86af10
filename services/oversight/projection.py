"""Oversight's read model: the case summary every service keeps, and oversight's own documents
(``oversight_cases``, one per case): what the workbench and the supervision dashboard show
beside the case's state — the number and category, which units signed for it, how many
replies, when the lead claimed resolution, and the closure's finding and basis. No reply text
(it stays in the log)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.oversight.notice import LadderNotices
from services.oversight.penalty_register import PenaltyRegister
from services.oversight.rates_projection import RateItems
from services.oversight.signed_figures import SignedFigures
from services.oversight.workbench_projection import WorkbenchCases
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Projection
from shared.readside.projections.case_summary import CaseSummary
from shared.store.port import Doc

OVERSIGHT_CASES = "oversight_cases"


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        complaint_no=d["complaint_no"],
        category=d["category"],
        has_complainant=d.get("complainant") is not None,
    )


def _acknowledged(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if d["unit"] not in doc["acknowledged"]:
        doc["acknowledged"] = [*doc["acknowledged"], d["unit"]]


def _replied(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(replies=doc["replies"] + 1, replied_at=e.log_time)


def _claimed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(claimed_at=e.log_time, answer_due_at=d.get("answer_due_at"))


def _answered(answer: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
        doc["answer"] = answer

    return rule


def _closed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        finding=d["finding"],
        basis=d["basis"],
        confidential=d["confidential"],
        closed_at=e.log_time,
    )


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(claimed_at=None, answer_due_at=None, answer=None, finding=None, basis=None)
    doc["dispute_id"] = None  # the next reopen needs the next dispute
    doc["reopened"] = doc["reopened"] + 1  # 重办 counts against the units


# -- closing the loop: what the reopen (重办) is counted from -------------------------------------


def _assigned(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["urgency"] = d["urgency"]


def _disputed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(answer="disputed", dispute_id=e.id)


def _finding_recorded(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["inspection_finding"] = d["finding"]


# -- pending extension requests, for the supervisor to rule on --------------------------------


def _extension_requested(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    asked = [r for r in doc.get("extension_requests", ()) if r["unit"] != d["unit"]]
    doc["extension_requests"] = [
        *asked,
        {"unit": d["unit"], "until": d["until"], "reason": d["reason"], "at": e.log_time},
    ]


def _extension_settled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    """A ruling settles the unit's request; a granted return takes the unit off the case."""
    if e.type == "ledger.dispatch.return_ruled.v1" and not d["granted"]:
        return
    doc["extension_requests"] = [
        r for r in doc.get("extension_requests", ()) if r["unit"] != d["unit"]
    ]


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    "ledger.handling.acknowledged.v1": _acknowledged,
    "ledger.handling.replied.v1": _replied,
    "ledger.handling.resolution_claimed.v1": _claimed,
    "ledger.complainant.confirmed.v1": _answered("confirmed"),
    "ledger.complainant.disputed.v1": _disputed,
    "ledger.handling.closed.v1": _closed,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.inspection.finding_recorded.v1": _finding_recorded,
    "ledger.handling.extension_requested.v1": _extension_requested,
    "ledger.handling.extension_ruled.v1": _extension_settled,
    "ledger.dispatch.return_ruled.v1": _extension_settled,
}


def _fresh() -> Doc:
    return {
        "complaint_no": None,
        "category": None,
        "has_complainant": False,
        "acknowledged": [],
        "replies": 0,
        "replied_at": None,
        "claimed_at": None,
        "answer_due_at": None,
        "answer": None,
        "finding": None,
        "basis": None,
        "confidential": False,
        "closed_at": None,
        "urgency": None,
        "dispute_id": None,
        "inspection_finding": None,
        "reopened": 0,
    }


class OversightCases(CaseTable):
    """The Projection for ``oversight_cases`` (see the module docstring)."""

    name = "oversight_cases"
    collection = OVERSIGHT_CASES
    rules = RULES
    indexes = (("complaint_no",),)

    def fresh(self) -> Doc:
        return _fresh()


PROJECTIONS: tuple[Projection, ...] = (
    CaseSummary(),
    OversightCases(),
    LadderNotices(),
    RateItems(),
    PenaltyRegister(),
    WorkbenchCases(),
    SignedFigures(),
)
