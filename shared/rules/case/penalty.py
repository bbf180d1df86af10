"""penalty.* and inspection.*: accountability on the published schedule, and 暗访 findings.

A penalty's minimum is read from the penalty schedule in force at the registry version the
event names (``registry.config_published`` of kind ``penalty_schedule``), never from a minimum
the writer states. Penalties are on an ordered scale (``catalog.Penalty``); one below the
minimum needs a stated reason. The repeat count and leadership responsibility span streams:
the writer decides them and the rule book takes them as written.
"""

from __future__ import annotations

from typing import Any

from shared.events.catalog import PENALTY_RANK
from shared.rules.act import Act, Check, Evolve, by_body, state_is
from shared.rules.case.guards import all_of, in_status, not_ended
from shared.rules.case.proposal import decided, pending
from shared.rules.case.state import NEW, RECEIVED, CaseState
from shared.rules.verdict import Reason, Verdict, reject

SCHEDULE = "penalty_schedule"


def minimum(act: Act, d: dict[str, Any]) -> str | Verdict:
    """The schedule's minimum for this offence and repeat, or why there is none."""
    entry = act.registry.config_entry_at(SCHEDULE, act.regseq)
    if entry is None or entry[0] != d["schedule_version"]:
        return reject(Reason.unknown_config, "that schedule version is not in force")
    floor = floor_of(entry[1], d["offence"], d["repeat_count"])
    if floor is None:
        return reject(Reason.unknown_config, "the schedule has no such offence")
    return floor


def floor_of(schedule: dict[str, Any], offence: str, repeat_count: int) -> str | None:
    """The schedule's minimum for the ``repeat_count``-th offence (the last step repeats)."""
    steps = schedule["minimums"].get(offence)
    if not steps:
        return None
    return str(steps[min(repeat_count, len(steps)) - 1])


def _on_schedule(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    floor = minimum(act, d)
    if not isinstance(floor, str):
        return floor
    if PENALTY_RANK[d["penalty"]] < PENALTY_RANK[floor] and not d.get("departure_reason"):
        return reject(Reason.below_schedule, "below the schedule's minimum without a reason")
    return None


def _new_penalty(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return state_is("penalty id already used") if d["penalty_id"] in s.penalties else None


def _active(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if d["penalty_id"] in s.penalties else state_is("no such penalty")


def _opened_by_inspection(s: CaseState, d: dict[str, Any]) -> CaseState:
    # No complaint to screen for duplicates: an inspection's own case is assignable at once.
    return s._replace(status=RECEIVED, unit=d["unit"], inspection=True, screened=True)


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.inspection.finding_recorded.v1": (
        all_of(by_body, in_status(NEW)),
        _opened_by_inspection,
    ),
    "ledger.penalty.imposed.v1": (
        all_of(by_body, not_ended, _new_penalty, _on_schedule, pending),
        lambda s, d: decided(s, d)._replace(penalties=(*s.penalties, d["penalty_id"])),
    ),
    "ledger.penalty.revoked.v1": (
        all_of(by_body, _active),
        lambda s, d: s._replace(penalties=tuple(p for p in s.penalties if p != d["penalty_id"])),
    ),
}
