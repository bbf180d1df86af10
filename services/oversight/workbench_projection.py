"""The workbench's read model (``workbench_cases``, one document per case): when the case's
current round of handling began (its assignment, or the reopen that gave fresh due times) and
when the workbench first showed it to each unit in that round. Pure, like every projection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted
from shared.store.port import Doc

WORKBENCH_CASES = "workbench_cases"


def _round_begins(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(assigned_at=e.log_time, first_shown=[])


def _first_shown(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["first_shown"] = [*doc["first_shown"], {"unit": d["unit"], "at": e.log_time}]


RULES: dict[str, Rule] = {
    "ledger.dispatch.assigned.v1": _round_begins,
    "ledger.handling.reopened.v1": _round_begins,
    "ledger.handling.first_shown.v1": _first_shown,
}


def first_shown_at(doc: Mapping[str, Any] | None, unit: str) -> int | None:
    """When the workbench first showed ``unit`` the case's current round (µs), if it has."""
    for shown in (doc or {}).get("first_shown", ()):
        if shown["unit"] == unit:
            return int(shown["at"])
    return None


class WorkbenchCases(CaseTable):
    name = "workbench_cases"
    collection = WORKBENCH_CASES
    rules = RULES

    def fresh(self) -> Doc:
        return {"assigned_at": None, "first_shown": []}
