"""Publication's read model: the case summary every service keeps, and ``notices`` (one per
case): the facts a notice may state (unit, category, finding, whether confidential), the
case's current notice and its text — rebuilt from those facts and shown only when it matches
the hash the log holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.publication.notice_text import notice_text, text_sha256
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Projection
from shared.readside.projections.case_summary import CaseSummary
from shared.store.port import Doc

NOTICES = "notices"


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(complaint_no=d["complaint_no"], unit=d["unit"], category=d["category"])


def _closed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(finding=d["finding"], confidential=d["confidential"], closed_at=e.log_time)


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(finding=None, confidential=False, closed_at=None)
    if doc["notice_state"] == "drafted":  # a draft about the old outcome no longer stands
        doc["notice_state"] = None


def _drafted(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    text: str | None = None
    if doc["finding"] and doc["unit"] and doc["category"]:
        built = notice_text(d["notice_id"], doc["unit"], doc["category"], doc["finding"])
        text = built if text_sha256(built) == d["text_sha256"] else None
    doc.update(
        notice_id=d["notice_id"],
        notice_state="drafted",
        text_sha256=d["text_sha256"],
        text=text,
        drafted_at=e.log_time,
        published_at=None,
    )


def _notice_state(state: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
        if d["notice_id"] == doc["notice_id"]:
            doc["notice_state"] = state
            if state == "published":
                doc["published_at"] = e.log_time

    return rule


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    "ledger.handling.closed.v1": _closed,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.publication.drafted.v1": _drafted,
    "ledger.publication.published.v1": _notice_state("published"),
    "ledger.publication.withheld.v1": _notice_state("withheld"),
    "ledger.publication.withdrawn.v1": _notice_state("withdrawn"),
}


def _stage(doc: Doc) -> str | None:
    """Where the case stands for publication: to_draft, confidential, or its notice's state."""
    if doc["notice_state"] is not None:
        return str(doc["notice_state"])
    if doc["closed_at"] is None:
        return None
    return "confidential" if doc["confidential"] else "to_draft"


def _fresh() -> Doc:
    return {
        "complaint_no": None,
        "unit": None,
        "category": None,
        "finding": None,
        "confidential": False,
        "closed_at": None,
        "notice_id": None,
        "notice_state": None,
        "text_sha256": None,
        "text": None,
        "drafted_at": None,
        "published_at": None,
        "stage": None,
    }


class Notices(CaseTable):
    """The Projection for ``notices`` (see the module docstring)."""

    name = "notices"
    collection = NOTICES
    rules = RULES
    indexes = (("stage", "published_at"), ("stage", "closed_at"))

    def fresh(self) -> Doc:
        return _fresh()

    def derive(self, doc: Doc) -> None:
        doc["stage"] = _stage(doc)


PROJECTIONS: tuple[Projection, ...] = (CaseSummary(), Notices())
