"""The case stream's state: one incident from intake to closure, each unit on its own clock.

Immutable NamedTuples, because ``_replace`` is several times cheaper than
``dataclasses.replace`` and replay evolves every event of every case.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Statuses, in words the pages translate.
NEW = "new"
RECEIVED = "received"  # 已受理, awaiting screening and dispatch
MERGED = "merged"  # 已并案: linked as a duplicate of another case
ASSIGNED = "assigned"  # 办理中
CLAIMED = "claimed"  # 牵头单位称已办结, awaiting the complainant or a supervisor
DISPUTED = "disputed"  # 投诉人不认可, awaiting 重办
RESOLVED = "resolved"  # 已解决 (the complainant confirmed)
CLOSED = "closed"
DECLINED = "declined"
WITHDRAWN = "withdrawn"

OPEN = frozenset({RECEIVED, ASSIGNED, CLAIMED, DISPUTED})
ENDED = frozenset({MERGED, DECLINED, WITHDRAWN})
OUTCOME = frozenset({RESOLVED, CLOSED})


class UnitClock(NamedTuple):
    """One unit's part of a case: its own due time and what became of it."""

    unit: str
    lead: bool
    due_at: str  # as written
    due: int  # the same, in microseconds since the epoch
    provisional: bool = False  # computed past the years the holiday calendar knows
    overdue: bool = False  # its deadline elapsed before it completed
    deemed_done: bool = False  # 超时默认 (co-units only): counts as overdue, never as resolved
    completed: bool = False  # its part done (the lead: resolution claimed)

    def summary(self) -> list[Any]:
        return [
            self.unit,
            self.lead,
            self.due_at,
            self.provisional,
            self.overdue,
            self.deemed_done,
            self.completed,
        ]


class CaseState(NamedTuple):
    status: str = NEW
    unit: str | None = None  # the unit complained about
    clocks: tuple[UnitClock, ...] = ()  # the lead first, then co-units
    returns_pending: tuple[str, ...] = ()
    extensions_pending: tuple[str, ...] = ()
    complaints: tuple[tuple[str, str | None], ...] = ()  # (complaint no, complainant) own+gathered
    screened: bool = False
    screening: str | None = None  # the screening outcome
    related_case: str | None = None  # the case it duplicates, or the closed case it repeats
    merged_into: str | None = None
    gathered: tuple[tuple[str, str], ...] = ()  # (source case, complaint no) of duplicates
    inspection: bool = False  # opened by an inspection finding (暗访)
    escalation: int = 0
    penalties: tuple[str, ...] = ()
    notices: tuple[tuple[str, str], ...] = ()  # (notice id, drafted|published|withheld|withdrawn)
    closed_basis: str | None = None
    finding: str | None = None
    confidential: bool = False
    assigned_times: int = 0
    reopened: int = 0
    answer_due: int | None = None  # 回访: until when the complainant is asked (µs)
    answer_elapsed: bool = False
    rated: tuple[str, ...] = ()  # complaint numbers with a satisfaction score
    timers: tuple[tuple[str, int], ...] = ()  # (unit or "", due µs) of every elapsed deadline
    deliveries: int = 0
    ladder: tuple[tuple[str, int, str], ...] = ()  # (unit, due µs, step) of each ladder step
    proposals: tuple[str, ...] = ()  # penalty proposals awaiting a supervisor's decision
    # 申诉复核: (event id, kind, units, penalty id) of each event a unit may appeal, and
    # (appeal id, target event, unit, pending|upheld|rejected) of each appeal filed
    contestable: tuple[tuple[str, str, tuple[str, ...], str], ...] = ()
    appeals: tuple[tuple[str, str, str, str], ...] = ()

    def on_ladder(self, unit: str, due: int, step: str) -> bool:
        """Whether that step of the escalation ladder on that deadline was taken."""
        return (unit, due, step) in self.ladder

    @property
    def lead_unit(self) -> str | None:
        return next((c.unit for c in self.clocks if c.lead), None)

    @property
    def due_at(self) -> str | None:
        """The lead unit's due time: the case's own limit (co-units keep theirs)."""
        return next((c.due_at for c in self.clocks if c.lead), None)

    @property
    def overdue(self) -> bool:
        """Whether the lead unit's deadline elapsed before it claimed resolution."""
        return any(c.overdue for c in self.clocks if c.lead)

    @property
    def co_units(self) -> tuple[str, ...]:
        return tuple(c.unit for c in self.clocks if not c.lead)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(c.unit for c in self.clocks)

    def clock(self, unit: str) -> UnitClock | None:
        for c in self.clocks:
            if c.unit == unit:
                return c
        return None

    def with_clock(self, unit: str, **changes: Any) -> CaseState:
        return self._replace(
            clocks=tuple([c._replace(**changes) if c.unit == unit else c for c in self.clocks])
        )

    def complainant_of(self, complaint_no: str) -> tuple[bool, str | None]:
        """(is the complaint on the case, its complainant's pseudonym or None)."""
        for no, who in self.complaints:
            if no == complaint_no:
                return True, who
        return False, None

    @property
    def has_complainant(self) -> bool:
        return any(who is not None for _, who in self.complaints)

    def notice(self, notice_id: str) -> str | None:
        return next((s for n, s in self.notices if n == notice_id), None)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "unit": self.unit,
            "clocks": [c.summary() for c in self.clocks],
            "returns_pending": list(self.returns_pending),
            "extensions_pending": list(self.extensions_pending),
            "complaints": [list(c) for c in self.complaints],
            "screened": self.screened,
            "screening": self.screening,
            "related_case": self.related_case,
            "merged_into": self.merged_into,
            "gathered": [list(g) for g in self.gathered],
            "inspection": self.inspection,
            "escalation": self.escalation,
            "penalties": list(self.penalties),
            "notices": [list(n) for n in self.notices],
            "closed_basis": self.closed_basis,
            "finding": self.finding,
            "confidential": self.confidential,
            "assigned_times": self.assigned_times,
            "reopened": self.reopened,
            "answer_due": self.answer_due,
            "answer_elapsed": self.answer_elapsed,
            "rated": list(self.rated),
            "timers": [list(t) for t in self.timers],
            "deliveries": self.deliveries,
            "ladder": [list(step) for step in self.ladder],
            "proposals": list(self.proposals),
        } | self._appeal_summary()

    def _appeal_summary(self) -> dict[str, Any]:
        """Only once a case holds something appealable, so older digests stay as they were."""
        if not self.contestable and not self.appeals:
            return {}
        return {
            "contestable": [[e, k, list(u), p] for e, k, u, p in self.contestable],
            "appeals": [list(a) for a in self.appeals],
        }


_CASE_FIELDS = {name: i for i, name in enumerate(CaseState._fields)}
_new_tuple = tuple.__new__


def _replace_case(self: CaseState, **changes: Any) -> CaseState:
    """``CaseState._replace``, without the generated one's pass over all its fields: every
    event of every case evolves through it."""
    values = list(self)
    try:
        for name, value in changes.items():
            values[_CASE_FIELDS[name]] = value
    except KeyError:
        raise ValueError(f"Got unexpected field names: {list(changes)!r}") from None
    return _new_tuple(CaseState, values)


CaseState._replace = _replace_case  # type: ignore[method-assign,assignment]
