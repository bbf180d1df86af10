"""Provisional due times (暂定时限) and a newer calendar: what it would change, for an officer.

A due counted through a year the calendar in force did not know (today: 2027 on
``chinesecalendar-1.11.0``) was counted by weekends alone and recorded as provisional
(``shared/calendar.py``). When a newer calendar is published (a new ``calendar`` version, the
package or a table laid over it: ``calendars.py``), :func:`changes` lists, for each unit of
each open case whose due is still provisional, what the calendar in force counts from the same
start and limit — moved, or only settled. Nothing changes by itself: an officer confirms each
one (``dispatch.due_confirmed``, ``commands.confirm_due``), and a due that was never
provisional is never revisited.

Pure: the assignments are read from dispatch's read model (``dispatch_cases``: each unit's due,
the instant the dues were counted from and the limit, as the assignment recorded them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.dispatch.time_limits import as_time_limit
from shared.calendar import Due, DueChange, RecordedDue, WorkingCalendar, provisional_changes
from shared.events.catalog import LimitSpec


@dataclass(frozen=True)
class Pending:
    """One provisional due a newer calendar would change, for an officer to confirm."""

    case: str
    complaint_no: str | None
    unit: str
    previous: Due
    revised: Due

    @property
    def moved(self) -> bool:
        return self.revised.at != self.previous.at


def recorded(doc: Mapping[str, Any], units: Iterable[str]) -> list[RecordedDue]:
    """The provisional dues of one case's document, for the units still on its clock."""
    if doc.get("counted_from") is None or doc.get("handle_within") is None:
        return []  # recorded before the dues' start was: nothing to recount from
    start = datetime.fromisoformat(doc["counted_from"])
    limit = as_time_limit(LimitSpec.model_validate(doc["handle_within"]))
    running = set(units)
    return [
        RecordedDue(
            key=f"{doc['_id']}|{d['unit']}",
            start=start,
            limit=limit,
            due=Due(
                at=datetime.fromisoformat(d["due_at"]),
                provisional=True,
                calendar_version=d["calendar_version"],
            ),
        )
        for d in doc.get("dues", ())
        if d["provisional"] and d["unit"] in running
    ]


def changes(
    cases: Iterable[tuple[Mapping[str, Any], Iterable[str]]], calendar: WorkingCalendar
) -> list[Pending]:
    """What ``calendar`` would change, per (dispatch document, units whose clock still runs)."""
    numbers: dict[str, str | None] = {}
    records: list[RecordedDue] = []
    for doc, units in cases:
        numbers[str(doc["_id"])] = doc.get("complaint_no")
        records += recorded(doc, units)
    out = []
    for change in provisional_changes(records, calendar):
        case, unit = change.key.split("|", 1)
        out.append(Pending(case, numbers.get(case), unit, change.previous, change.revised))
    return out


def revised_due(doc: Mapping[str, Any], unit: str, calendar: WorkingCalendar) -> DueChange | None:
    """What ``calendar`` makes of that unit's provisional due (None: nothing to confirm)."""
    found = provisional_changes(recorded(doc, [unit]), calendar)
    return found[0] if found else None
