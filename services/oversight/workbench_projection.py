"""The workbench's read model.

* ``workbench_cases``, one document per case: when the case's current round of handling began
  (its assignment, or the reopen that gave fresh due times), when the workbench first showed it
  to each unit in that round, and the units on it (``units``: lead and co-units).
* ``workbench_units``, one document per (case, unit) that was ever on the case
  (``<case>|<unit>``): whether the unit is on it now (``on``), as the lead or a co-unit. The
  store cannot filter on an array, so this is what lists a co-unit's cases on its workbench
  (``unit, on, lead`` indexed); the case's state and clocks come from the other documents.

Pure, like every projection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Write
from shared.store.port import Doc, DocumentStore

WORKBENCH_CASES = "workbench_cases"
WORKBENCH_UNITS = "workbench_units"


def _round_begins(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(assigned_at=e.log_time, first_shown=[])


def _first_shown(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["first_shown"] = [*doc["first_shown"], {"unit": d["unit"], "at": e.log_time}]


def _assigned(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    _round_begins(doc, d, e)
    doc["units"] = [
        {"unit": d["lead_unit"], "lead": True},
        *({"unit": u["unit"], "lead": False} for u in d.get("co_units", ())),
    ]


def _return_ruled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    """A granted return takes the unit off the case; the lead's, every unit (it waits for a new
    assignment)."""
    if not d["granted"]:
        return
    units = doc.get("units", [])
    lead = any(u["unit"] == d["unit"] and u["lead"] for u in units)
    doc["units"] = [] if lead else [u for u in units if u["unit"] != d["unit"]]


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    _round_begins(doc, d, e)
    fresh = {u["unit"] for u in d["units"]}
    doc["units"] = [u for u in doc.get("units", []) if u["unit"] in fresh]


def _ended(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["units"] = []  # closed, merged or withdrawn: no unit works on it any more


RULES: dict[str, Rule] = {
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.handling.first_shown.v1": _first_shown,
    "ledger.dispatch.return_ruled.v1": _return_ruled,
    "ledger.handling.closed.v1": _ended,
    "ledger.complaint.linked_as_duplicate.v1": _ended,
    "ledger.complaint.withdrawn.v1": _ended,
}


def first_shown_at(doc: Mapping[str, Any] | None, unit: str) -> int | None:
    """When the workbench first showed ``unit`` the case's current round (µs), if it has."""
    for shown in (doc or {}).get("first_shown", ()):
        if shown["unit"] == unit:
            return int(shown["at"])
    return None


def unit_doc_id(case: str, unit: str) -> str:
    return f"{case}|{unit}"


def membership_writes(
    case: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Write]:
    """The ``workbench_units`` documents an event changed: each unit that joined, left or
    changed its part (pure)."""
    was = {u["unit"]: u["lead"] for u in before.get("units", ())}
    now = {u["unit"]: u["lead"] for u in after.get("units", ())}
    writes: list[Write] = []
    for unit in sorted(was.keys() | now.keys()):
        if (unit in was, was.get(unit)) == (unit in now, now.get(unit)):
            continue
        doc = {
            "case": case,
            "unit": unit,
            "on": unit in now,
            "lead": bool(now.get(unit, was.get(unit))),
        }
        writes.append(Write(WORKBENCH_UNITS, unit_doc_id(case, unit), doc))
    return writes


class WorkbenchCases(CaseTable):
    name = "workbench_cases"
    collection = WORKBENCH_CASES
    rules = RULES
    indexes = ()

    @property
    def collections(self) -> tuple[str, ...]:
        return (WORKBENCH_CASES, WORKBENCH_UNITS)

    async def setup(self, store: DocumentStore) -> None:
        await store.ensure_index(WORKBENCH_UNITS, ["unit", "on", "lead"])

    def fresh(self) -> Doc:
        return {"assigned_at": None, "first_shown": [], "units": []}

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        writes = super().apply(current, event)
        if not writes:
            return writes
        # The per-case document last (the projector's order: its _pos says what is applied).
        return [*membership_writes(event.stream, current or {}, writes[-1].doc), *writes]
