"""Intake's read model: the case summary every service keeps, and intake's own complaint
documents (``complaints``, one per case): the number, channel, category, unit, how it was
screened, the tracking code's hash (to find a case from what a complainant types) and the
complainant's pseudonym. Never the text (it stays in the log) nor anyone's identity (it never
enters the log)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.readside.projection import Accepted, Projection, Write
from shared.readside.projections.case_summary import CaseSummary
from shared.store.port import Doc, DocumentStore

COMPLAINTS = "complaints"

Rule = Callable[[Doc, Mapping[str, Any], Accepted], None]


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        complaint_no=d["complaint_no"],
        channel=d["channel"],
        unit=d["unit"],
        category=d["category"],
        tracking_code_hash=d["tracking_code_hash"],
        complainant=d.get("complainant"),
        received_at=e.log_time,
    )


def _screened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(screened=True, screening=d["outcome"], screening_method=d["method"])


def _answered(answer: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
        doc.update(answer=answer, answered_at=e.log_time)

    return rule


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(answer=None, answered_at=None)


RULES: dict[str, Rule] = {
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
    }


class IntakeComplaints:
    """The Projection for ``complaints`` (see the module docstring)."""

    name = "intake_complaints"
    stream_kinds = frozenset({"case"})
    stream_collection = COMPLAINTS
    collections = (COMPLAINTS,)

    async def setup(self, store: DocumentStore) -> None:
        await store.ensure_index(COMPLAINTS, ["complaint_no"])
        await store.ensure_index(COMPLAINTS, ["screened", "received_at"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        rule = RULES.get(event.type)
        if rule is None:
            return []  # other families say nothing intake's pages show
        doc = {k: v for k, v in (current or _fresh()).items() if k not in ("_id", "_pos")}
        rule(doc, event.data, event)
        return [Write(COMPLAINTS, event.stream, doc)]


PROJECTIONS: tuple[Projection, ...] = (CaseSummary(), IntakeComplaints())
