"""The case stream: one incident from intake to closure, as a pure state machine.

``check`` says why an event cannot apply in the current state (or None); ``evolve`` returns
the next state. Both see only the case's own stream: facts that span streams (a duplicate's
target, cross-level, repeat counts) were decided by their writer and are taken as written.

Rules of the reform encoded here (DESIGN principle 11): the clock runs from assignment and
signing for a case does not touch it; a unit's claim of resolution is not resolution — the
complainant confirms, or a supervisor decides with the basis recorded; deemed done (超时默认)
needs an elapsed deadline and is never "resolved"; a return (退单) needs a dispatch ruling and
the unit stays responsible until it is granted (首接负责).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

# Statuses, in words the pages translate.
NEW = "new"
RECEIVED = "received"  # 已受理, awaiting dispatch
MERGED = "merged"  # 已并案: linked as a duplicate of another case
ASSIGNED = "assigned"  # 办理中
CLAIMED = "claimed"  # 单位称已办结, awaiting confirmation
RESOLVED = "resolved"  # 已解决 (confirmed)
DEEMED_DONE = "deemed_done"  # 超时默认
CLOSED = "closed"
DECLINED = "declined"
WITHDRAWN = "withdrawn"

OPEN = frozenset({RECEIVED, ASSIGNED, CLAIMED})
ENDED = frozenset({MERGED, DECLINED, WITHDRAWN})


class CaseState(NamedTuple):
    """Immutable; a NamedTuple because ``_replace`` is several times cheaper than
    ``dataclasses.replace`` and replay evolves every event of every case."""

    status: str = NEW
    unit: str | None = None  # the unit complained about
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    due_at: str | None = None
    overdue: bool = False
    returns_pending: tuple[str, ...] = ()
    extensions_pending: tuple[str, ...] = ()
    complaints: tuple[str, ...] = ()  # the case's own filing
    merged_into: str | None = None
    gathered: tuple[tuple[str, str], ...] = ()  # (source case, complaint no) of duplicates
    escalation: int = 0
    penalties: tuple[str, ...] = ()
    notices: tuple[tuple[str, str], ...] = ()  # (notice id, drafted|published|withheld|withdrawn)
    closed_basis: str | None = None
    assigned_times: int = 0

    @property
    def units(self) -> tuple[str, ...]:
        return ((self.lead_unit,) if self.lead_unit else ()) + self.co_units

    def notice(self, notice_id: str) -> str | None:
        return next((s for n, s in self.notices if n == notice_id), None)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "unit": self.unit,
            "lead_unit": self.lead_unit,
            "co_units": list(self.co_units),
            "due_at": self.due_at,
            "overdue": self.overdue,
            "returns_pending": list(self.returns_pending),
            "extensions_pending": list(self.extensions_pending),
            "complaints": list(self.complaints),
            "merged_into": self.merged_into,
            "gathered": [list(g) for g in self.gathered],
            "escalation": self.escalation,
            "penalties": list(self.penalties),
            "notices": [list(n) for n in self.notices],
            "closed_basis": self.closed_basis,
            "assigned_times": self.assigned_times,
        }


Check = Callable[[CaseState, dict[str, Any]], str | None]
Evolve = Callable[[CaseState, dict[str, Any]], CaseState]


def _in(*statuses: str) -> Check:
    allowed = frozenset(statuses)

    def check(s: CaseState, d: dict[str, Any]) -> str | None:
        return None if s.status in allowed else f"not allowed while {s.status}"

    return check


def _all(*checks: Check) -> Check:
    def check(s: CaseState, d: dict[str, Any]) -> str | None:
        for c in checks:
            if (why := c(s, d)) is not None:
                return why
        return None

    return check


def _unit_assigned(s: CaseState, d: dict[str, Any]) -> str | None:
    return None if d["unit"] in s.units else "unit is not assigned to this case"


def _lead(s: CaseState, d: dict[str, Any]) -> str | None:
    return None if d["unit"] == s.lead_unit else "only the lead unit may do this"


def _not_ended(s: CaseState, d: dict[str, Any]) -> str | None:
    return None if s.status not in ENDED and s.status != NEW else f"case is {s.status}"


def _opened(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        status=RECEIVED,
        unit=d["unit"],
        complaints=(d["complaint_no"],) if "complaint_no" in d else (),
    )


def _split_check(s: CaseState, d: dict[str, Any]) -> str | None:
    if s.status == MERGED:
        return None if d["other"] == s.merged_into else "not merged into that case"
    if s.status in OPEN:
        gathered = any(src == d["other"] for src, _ in s.gathered)
        return None if gathered else "that case was not gathered here"
    return f"not allowed while {s.status}"


def _split(s: CaseState, d: dict[str, Any]) -> CaseState:
    if s.status == MERGED:
        return s._replace(status=RECEIVED, merged_into=None)
    return s._replace(gathered=tuple(g for g in s.gathered if g[0] != d["other"]))


def _assign(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        status=ASSIGNED,
        lead_unit=d["lead_unit"],
        co_units=tuple(d.get("co_units", ())),
        due_at=d["due_at"],
        overdue=False,
        returns_pending=(),
        extensions_pending=(),
        assigned_times=s.assigned_times + 1,
    )


def _return_requested_check(s: CaseState, d: dict[str, Any]) -> str | None:
    if d["unit"] in s.returns_pending:
        return "a return is already pending for this unit"
    return None


def _return_ruled(s: CaseState, d: dict[str, Any]) -> CaseState:
    pending = tuple(u for u in s.returns_pending if u != d["unit"])
    if not d["granted"]:
        return s._replace(returns_pending=pending)
    if d["unit"] == s.lead_unit:
        # The lead is released: the case waits for a new assignment, co-units with it.
        return s._replace(
            status=RECEIVED, lead_unit=None, co_units=(), due_at=None, returns_pending=()
        )
    return s._replace(
        returns_pending=pending, co_units=tuple(u for u in s.co_units if u != d["unit"])
    )


def _pending(field: str) -> Check:
    def check(s: CaseState, d: dict[str, Any]) -> str | None:
        return None if d["unit"] in getattr(s, field) else "nothing pending for this unit"

    return check


def _extension_requested_check(s: CaseState, d: dict[str, Any]) -> str | None:
    return "an extension is already pending" if d["unit"] in s.extensions_pending else None


def _extension_ruled(s: CaseState, d: dict[str, Any]) -> CaseState:
    pending = tuple(u for u in s.extensions_pending if u != d["unit"])
    if d["granted"]:
        return s._replace(extensions_pending=pending, due_at=d["due_at"], overdue=False)
    return s._replace(extensions_pending=pending)


def _extension_ruled_check(s: CaseState, d: dict[str, Any]) -> str | None:
    if d["granted"] and not d.get("due_at"):
        return "a granted extension names the new due time"
    return None


def _closed_check(s: CaseState, d: dict[str, Any]) -> str | None:
    basis = d["basis"]
    if basis == "complainant_confirmed":
        return None if s.status == RESOLVED else "the complainant has not confirmed"
    # A supervisor decides where there is nobody to ask, or after deemed-done.
    return None if s.status in (CLAIMED, DEEMED_DONE, RESOLVED) else f"not allowed while {s.status}"


def _escalate_check(s: CaseState, d: dict[str, Any]) -> str | None:
    return None if d["level"] > s.escalation else "already escalated to that level"


def _penalty_new(s: CaseState, d: dict[str, Any]) -> str | None:
    return "penalty id already used" if d["penalty_id"] in s.penalties else None


def _penalty_active(s: CaseState, d: dict[str, Any]) -> str | None:
    return None if d["penalty_id"] in s.penalties else "no such penalty"


def _notice_is(*states: str | None) -> Check:
    def check(s: CaseState, d: dict[str, Any]) -> str | None:
        return None if s.notice(d["notice_id"]) in states else "notice not in the right state"

    return check


def _notice_to(state: str) -> Evolve:
    def evolve(s: CaseState, d: dict[str, Any]) -> CaseState:
        others = tuple(n for n in s.notices if n[0] != d["notice_id"])
        return s._replace(notices=(*others, (d["notice_id"], state)))

    return evolve


def _same(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s


_OUTCOME = (CLOSED, DEEMED_DONE, RESOLVED)

# type -> (check, evolve). The one table of what may happen to a case, and what it does.
RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.complaint.received.v1": (_in(NEW), _opened),
    "ledger.inspection.finding_recorded.v1": (_in(NEW), _opened),
    "ledger.complaint.linked_as_duplicate.v1": (
        _in(RECEIVED),
        lambda s, d: s._replace(status=MERGED, merged_into=d["target"]),
    ),
    "ledger.complaint.gathered.v1": (
        _in(*OPEN),
        lambda s, d: s._replace(gathered=(*s.gathered, (d["source"], d["complaint_no"]))),
    ),
    "ledger.complaint.link_split.v1": (_split_check, _split),
    "ledger.complaint.flagged_cross_level.v1": (_in(*OPEN), _same),
    "ledger.complaint.withdrawn.v1": (_in(*OPEN), lambda s, d: s._replace(status=WITHDRAWN)),
    "ledger.complaint.declined.v1": (_in(RECEIVED), lambda s, d: s._replace(status=DECLINED)),
    "ledger.complainant.confirmed.v1": (_in(CLAIMED), lambda s, d: s._replace(status=RESOLVED)),
    "ledger.complainant.disputed.v1": (_in(CLAIMED), lambda s, d: s._replace(status=ASSIGNED)),
    "ledger.complainant.satisfaction_rated.v1": (_in(RESOLVED, CLOSED), _same),
    "ledger.dispatch.assigned.v1": (_in(RECEIVED), _assign),
    "ledger.dispatch.return_requested.v1": (
        _all(_in(ASSIGNED), _unit_assigned, _return_requested_check),
        lambda s, d: s._replace(returns_pending=(*s.returns_pending, d["unit"])),
    ),
    "ledger.dispatch.return_ruled.v1": (
        _all(_in(ASSIGNED), _pending("returns_pending")),
        _return_ruled,
    ),
    "ledger.dispatch.deemed_done.v1": (
        _all(
            _in(ASSIGNED),
            _lead,
            lambda s, d: None if s.overdue else "no deadline has elapsed",
        ),
        lambda s, d: s._replace(status=DEEMED_DONE),
    ),
    "ledger.handling.acknowledged.v1": (_all(_in(ASSIGNED, CLAIMED), _unit_assigned), _same),
    "ledger.handling.replied.v1": (_all(_in(ASSIGNED, CLAIMED), _unit_assigned), _same),
    "ledger.handling.progress.v1": (_all(_in(ASSIGNED, CLAIMED), _unit_assigned), _same),
    "ledger.handling.resolution_claimed.v1": (
        _all(_in(ASSIGNED), _lead),
        lambda s, d: s._replace(status=CLAIMED),
    ),
    "ledger.handling.extension_requested.v1": (
        _all(_in(ASSIGNED), _unit_assigned, _extension_requested_check),
        lambda s, d: s._replace(extensions_pending=(*s.extensions_pending, d["unit"])),
    ),
    "ledger.handling.extension_ruled.v1": (
        _all(_in(ASSIGNED), _pending("extensions_pending"), _extension_ruled_check),
        _extension_ruled,
    ),
    "ledger.handling.reopened.v1": (
        _all(_in(*_OUTCOME), lambda s, d: None if s.lead_unit else "no unit to reopen with"),
        lambda s, d: s._replace(status=ASSIGNED, closed_basis=None),
    ),
    "ledger.handling.closed.v1": (
        _closed_check,
        lambda s, d: s._replace(status=CLOSED, closed_basis=d["basis"]),
    ),
    "ledger.deadline.elapsed.v1": (_in(*OPEN), lambda s, d: s._replace(overdue=True)),
    "ledger.supervision.escalated.v1": (
        _all(_in(*OPEN, DEEMED_DONE), _escalate_check),
        lambda s, d: s._replace(escalation=d["level"]),
    ),
    "ledger.penalty.imposed.v1": (
        _all(_not_ended, _penalty_new),
        lambda s, d: s._replace(penalties=(*s.penalties, d["penalty_id"])),
    ),
    "ledger.penalty.revoked.v1": (
        _penalty_active,
        lambda s, d: s._replace(penalties=tuple(p for p in s.penalties if p != d["penalty_id"])),
    ),
    "ledger.publication.drafted.v1": (
        _all(_in(*_OUTCOME), _notice_is(None)),
        _notice_to("drafted"),
    ),
    "ledger.publication.published.v1": (_notice_is("drafted"), _notice_to("published")),
    "ledger.publication.withheld.v1": (_notice_is("drafted"), _notice_to("withheld")),
    "ledger.publication.withdrawn.v1": (_notice_is("published"), _notice_to("withdrawn")),
    "ledger.publication.corrected.v1": (_notice_is("published"), _notice_to("published")),
}


def check(state: CaseState, event_type: str, data: dict[str, Any]) -> str | None:
    rule = RULES.get(event_type)
    if rule is None:
        return "not a case event"
    return rule[0](state, data)


def evolve(state: CaseState, event_type: str, data: dict[str, Any]) -> CaseState:
    return RULES[event_type][1](state, data)
