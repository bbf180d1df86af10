"""appeal.*: 申诉复核 — a unit appeals an event the log counts against it; a supervisor rules.

What may be appealed, and by whom, is remembered as the events happen (:func:`noted`, which
sees each accepted event's own id): a standing penalty (``penalty.imposed``: its unit), a
deemed done (``dispatch.deemed_done``: its unit), a reopen (``handling.reopened``: every unit
it gave a fresh due time) and a buck-passing flag (``dispatch.buck_passing_flagged``: every
unit it names). Only that unit files, in its own name, once per event; only a body's staff
rules, on a pending appeal, with a reason, repeating exactly what was appealed. An upheld
appeal of a penalty is followed by ``penalty.revoked`` (written with the ruling); what an
upheld appeal does to the rates is the rates' own (README "Rates").
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, state_is
from shared.rules.case.guards import all_of, not_ended
from shared.rules.case.state import CaseState
from shared.rules.verdict import Reason, Verdict, reject

PENDING = "pending"

# The event types a unit may appeal, and the target kind each is.
CONTESTABLE = {
    "ledger.penalty.imposed.v1": "penalty",
    "ledger.dispatch.deemed_done.v1": "deemed_done",
    "ledger.handling.reopened.v1": "reopen",
    "ledger.dispatch.buck_passing_flagged.v1": "buck_passing",
}


def _units_of(event_type: str, d: dict[str, Any]) -> tuple[str, ...]:
    if event_type == "ledger.handling.reopened.v1":
        return tuple(u["unit"] for u in d["units"])
    if event_type == "ledger.dispatch.buck_passing_flagged.v1":
        return tuple(dict.fromkeys(d["units"]))
    return (d["unit"],)


def noted(s: CaseState, event_type: str, event_id: str, d: dict[str, Any]) -> CaseState:
    """Remember an accepted event a unit may appeal: (event id, kind, units, penalty id)."""
    kind = CONTESTABLE.get(event_type)
    if kind is None:
        return s
    entry = (event_id, kind, _units_of(event_type, d), d.get("penalty_id", ""))
    return s._replace(contestable=(*s.contestable, entry))


def _target(s: CaseState, d: dict[str, Any]) -> tuple[str, str, tuple[str, ...], str] | None:
    return next((c for c in s.contestable if c[0] == d["target_event"]), None)


def _own_filing(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if not act.by_unit:
        return reject(Reason.wrong_actor, "only a unit, through the workbench, appeals")
    if act.org != d["unit"]:
        return reject(Reason.acts_for_other, "a unit appeals only in its own name")
    return None


def _appealable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    target = _target(s, d)
    if target is None or target[1] != d["target"]:
        return state_is("no such event of that kind on the case")
    if d["unit"] not in target[2]:
        return reject(Reason.acts_for_other, "that event does not count against this unit")
    if d["target"] == "penalty" and target[3] not in s.penalties:
        return state_is("the penalty no longer stands")
    if any(a[0] == d["appeal_id"] for a in s.appeals):
        return state_is("appeal id already used")
    if any(a[1] == d["target_event"] and a[2] == d["unit"] for a in s.appeals):
        return reject(Reason.duplicate_act, "this unit has appealed that event already")
    return None


def _filed(s: CaseState, d: dict[str, Any]) -> CaseState:
    entry = (d["appeal_id"], d["target_event"], d["unit"], PENDING)
    return s._replace(appeals=(*s.appeals, entry))


def _pending_as_filed(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    filed = next((a for a in s.appeals if a[0] == d["appeal_id"]), None)
    if filed is None or filed[3] != PENDING:
        return state_is("no such appeal awaits a ruling")
    target = _target(s, d)
    if (filed[1], filed[2]) != (d["target_event"], d["unit"]) or target is None:
        return state_is("a ruling repeats what was appealed")
    if target[1] != d["target"]:
        return state_is("a ruling repeats what was appealed")
    if not d["reason"].strip():
        return state_is("a ruling gives its reason")
    return None


def _ruled(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        appeals=tuple(
            (a[0], a[1], a[2], d["outcome"]) if a[0] == d["appeal_id"] else a for a in s.appeals
        )
    )


def appeal_of(s: CaseState, appeal_id: str) -> tuple[str, str, str, str] | None:
    """(appeal id, target event, unit, pending | upheld | rejected), or None."""
    return next((a for a in s.appeals if a[0] == appeal_id), None)


def target_of(s: CaseState, event_id: str) -> tuple[str, str, tuple[str, ...], str] | None:
    """(event id, kind, units, penalty id) of an appealable event of the case, or None."""
    return next((c for c in s.contestable if c[0] == event_id), None)


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.appeal.filed.v1": (all_of(not_ended, _own_filing, _appealable), _filed),
    "ledger.appeal.ruled.v1": (all_of(by_body, _pending_as_filed), _ruled),
}
