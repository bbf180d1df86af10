"""What the complainant's status page shows of a case, as intake's read model folds it
(``case_status``, one document per case): the units' replies (as written: the page redacts
them as it shows them), the extension rulings, reopenings, the closing finding and the
satisfaction scores given. Never who wrote a reply (no unit staff id), never the complainant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted
from shared.store.port import Doc

CASE_STATUS = "case_status"


def _replied(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["replies"] = [*doc["replies"], {"at": e.log_time, "text": d["text"]}]


def _extension(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    ruling = {"at": e.log_time, "granted": d["granted"], "due_at": d.get("due_at")}
    doc["extensions"] = [*doc["extensions"], ruling]


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(reopened=[*doc["reopened"], e.log_time], finding=None, closed_at=None)


def _closed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(finding=d["finding"], closed_basis=d["basis"], closed_at=e.log_time)


def _rated(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["ratings"] = {**doc["ratings"], d["complaint_no"]: d["rating"]}


class CaseStatus(CaseTable):
    """The Projection for ``case_status`` (see the module docstring)."""

    name = "intake_case_status"
    collection = CASE_STATUS
    rules: ClassVar[Mapping[str, Rule]] = {
        "ledger.handling.replied.v1": _replied,
        "ledger.handling.extension_ruled.v1": _extension,
        "ledger.handling.reopened.v1": _reopened,
        "ledger.handling.closed.v1": _closed,
        "ledger.complainant.satisfaction_rated.v1": _rated,
    }

    def fresh(self) -> Doc:
        return {
            "replies": [],
            "extensions": [],
            "reopened": [],
            "finding": None,
            "closed_basis": None,
            "closed_at": None,
            "ratings": {},
        }
