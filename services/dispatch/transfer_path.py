"""The transfer path (转办轨迹): each unit that held a case, from when until when, and how its
holding ended — folded from the case's accepted events by their log time, pure.

A unit holds the case from the assignment that names it (lead or co-unit) until its return is
granted (退回), it claims its part done (报办结), it is deemed done (超时默认), or the case ends.
A granted return of the lead leaves the co-units holding until the next assignment, which
names the units that carry on (the same holding continues) and the new ones (a new holding);
a reopen (重办) gives every unit it names a new holding. The path is what the case page draws
and what buck-passing (``buck_passing.py``) reads: nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

ASSIGNED = "ledger.dispatch.assigned.v1"
RETURN_RULED = "ledger.dispatch.return_ruled.v1"
DEEMED_DONE = "ledger.dispatch.deemed_done.v1"
CLAIMED = "ledger.handling.resolution_claimed.v1"
REOPENED = "ledger.handling.reopened.v1"
# The case ends (or leaves handling) for every unit still holding it.
CASE_ENDS = frozenset(
    {
        "ledger.handling.closed.v1",
        "ledger.complainant.confirmed.v1",
        "ledger.complaint.withdrawn.v1",
        "ledger.complaint.linked_as_duplicate.v1",
        "ledger.complaint.declined.v1",
    }
)

# How a holding ended, as the case page names it.
RETURNED = "returned"  # 退单获准
COMPLETED = "completed"  # 报办结
DEEMED = "deemed_done"  # 超时默认
RELEASED = "released"  # the next assignment after the lead's return did not name it
ENDED = "ended"  # the case was closed, resolved, withdrawn or merged


class Holding(NamedTuple):
    """One unit's hold on a case: from ``since`` to ``until`` (µs of log time; None: still)."""

    unit: str
    lead: bool
    since: int
    until: int | None = None
    ended: str | None = None

    @property
    def open(self) -> bool:
        return self.until is None

    def held_for(self, now: int) -> int:
        """µs the unit held (or has held, by ``now``) the case."""
        return (self.until if self.until is not None else now) - self.since

    def as_doc(self) -> dict[str, Any]:
        return self._asdict()


Path = tuple[Holding, ...]


def from_docs(docs: Sequence[Mapping[str, Any]]) -> Path:
    return tuple(Holding(**d) for d in docs)


def _close(path: Path, at: int, how: str, units: frozenset[str] | None = None) -> Path:
    """End the open holdings of ``units`` (every open one when None)."""
    return tuple(
        h._replace(until=at, ended=how) if h.open and (units is None or h.unit in units) else h
        for h in path
    )


def _open_units(path: Path) -> dict[str, Holding]:
    return {h.unit: h for h in path if h.open}


def _assigned(path: Path, d: Mapping[str, Any], at: int) -> Path:
    named = [(d["lead_unit"], True), *((u["unit"], False) for u in d.get("co_units", ()))]
    holding = _open_units(path)
    keep = frozenset(u for u, lead in named if u in holding and holding[u].lead == lead)
    path = _close(path, at, RELEASED, frozenset(holding) - keep)
    return path + tuple(Holding(u, lead, at) for u, lead in named if u not in keep)


def _reopened(path: Path, d: Mapping[str, Any], at: int) -> Path:
    lead = {h.unit: h.lead for h in path}
    holding = _open_units(path)
    named = [u["unit"] for u in d["units"]]
    return path + tuple(Holding(u, lead.get(u, False), at) for u in named if u not in holding)


def advance(path: Path, event_type: str, d: Mapping[str, Any], at: int) -> Path:
    """The path after one accepted event of the case, appended at log time ``at`` (µs)."""
    if event_type == ASSIGNED:
        return _assigned(path, d, at)
    if event_type == RETURN_RULED:
        return _close(path, at, RETURNED, frozenset({d["unit"]})) if d["granted"] else path
    if event_type == CLAIMED:
        return _close(path, at, COMPLETED, frozenset({d["unit"]}))
    if event_type == DEEMED_DONE:
        return _close(path, at, DEEMED, frozenset({d["unit"]}))
    if event_type == REOPENED:
        return _reopened(path, d, at)
    if event_type in CASE_ENDS:
        return _close(path, at, ENDED)
    return path


def transfer_path(events: Sequence[tuple[str, Mapping[str, Any], int]]) -> Path:
    """The whole path of a case from its accepted events (type, data, log time µs), in order."""
    path: Path = ()
    for event_type, data, at in events:
        path = advance(path, event_type, data, at)
    return path


def leads(path: Path) -> tuple[str, ...]:
    """The lead units in the order they received the case (a unit again if it came back)."""
    return tuple(h.unit for h in path if h.lead)
